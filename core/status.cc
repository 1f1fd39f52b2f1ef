#include "core/status.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ova2virt {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kFailed:
      return "failed";
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kExists:
      return "exists";
    case ErrorCode::kNoSpace:
      return "no-space";
    case ErrorCode::kCancelled:
      return "cancelled";
  }
  return "failed";
}

Status Status::AtByte(ErrorCode code, uint64_t offset, std::string_view why,
                      bool truncated) {
  Status s(code, "at byte " + std::to_string(offset) + ": " + std::string(why));
  s.byte_offset_ = offset;
  s.truncated_ = truncated;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok() || context.empty()) return *this;
  // A lower layer may already have named the same thing (a file's path):
  // say it once.
  if (message_.size() > context.size() + 1 &&
      message_.compare(0, context.size(), context) == 0 &&
      message_.compare(context.size(), 2, ": ") == 0) {
    return *this;
  }
  std::string m;
  m.reserve(context.size() + 2 + message_.size());
  m.append(context).append(": ").append(message_);
  return Status(code_, std::move(m));
}

Status ErrnoError(std::string_view what, int errno_value) {
  ErrorCode code = ErrorCode::kFailed;
  switch (errno_value) {
    case ENOSPC:
    case EDQUOT:
      code = ErrorCode::kNoSpace;
      break;
    case ENOENT:
      code = ErrorCode::kNotFound;
      break;
    case EEXIST:
      code = ErrorCode::kExists;
      break;
    default:
      break;
  }
  std::string m(what);
  m.append(": ").append(std::strerror(errno_value));
  return Status(code, std::move(m));
}

std::string Quote(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('\'');
  for (unsigned char c : value) {
    if (c == '\'' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out.append(buf);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace ova2virt

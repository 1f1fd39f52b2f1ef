// Status and Result<T>: errors as values at every module boundary.
//
// A Status carries a small code (what kind of failure, which the command line
// maps to an exit status) and a one-line, lower-case message that says where
// the problem is: "member 'disk1.vmdk' at byte 1048576: grain size 70000
// exceeds 65536". Context is prepended as the error travels up.
#ifndef OVA2VIRT_CORE_STATUS_H_
#define OVA2VIRT_CORE_STATUS_H_

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ova2virt {

enum class ErrorCode {
  kOk = 0,
  kFailed,       // the operation failed: I/O, libvirt, internal
  kUsage,        // the caller asked for something malformed
  kCorrupt,      // the input is corrupt, hostile or fails verification
  kUnsupported,  // the input uses a feature we do not support
  kNotFound,     // a named thing (file, pool, domain, member) does not exist
  kExists,       // a target already exists and replacing it was not asked for
  kNoSpace,      // storage is full
  kCancelled,    // interrupted (signal, cancellation request)
};

// The name of a code for reports ("corrupt", "unsupported"...).
std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  // An error at byte `offset` of the stream being read: "at byte OFFSET:
  // WHY", with byte_offset() set. `truncated`: the stream ended there,
  // before the data it promised (truncated() is then true).
  static Status AtByte(ErrorCode code, uint64_t offset, std::string_view why,
                       bool truncated = false);

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Set where the error was made (AtByte), for callers that reword it
  // without reading the text back: the byte of its stream the error is at,
  // which the message then begins with ("at byte N: "), and whether the
  // stream ended there too early. Context added to the message clears both
  // (the message no longer begins with the offset).
  const std::optional<uint64_t>& byte_offset() const { return byte_offset_; }
  bool truncated() const { return truncated_; }

  // Returns this error with "context: " prepended; an ok Status stays ok.
  Status WithContext(std::string_view context) const;

  // "ok", or the message.
  std::string ToString() const { return ok() ? "ok" : message_; }

  // Explicitly drop a Status whose failure does not matter (cleanup paths).
  void IgnoreError() const {}

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::optional<uint64_t> byte_offset_;
  bool truncated_ = false;
};

inline Status OkStatus() { return Status(); }
inline Status FailedError(std::string m) {
  return Status(ErrorCode::kFailed, std::move(m));
}
inline Status UsageError(std::string m) {
  return Status(ErrorCode::kUsage, std::move(m));
}
inline Status CorruptError(std::string m) {
  return Status(ErrorCode::kCorrupt, std::move(m));
}
inline Status UnsupportedError(std::string m) {
  return Status(ErrorCode::kUnsupported, std::move(m));
}
inline Status NotFoundError(std::string m) {
  return Status(ErrorCode::kNotFound, std::move(m));
}
inline Status ExistsError(std::string m) {
  return Status(ErrorCode::kExists, std::move(m));
}
inline Status NoSpaceError(std::string m) {
  return Status(ErrorCode::kNoSpace, std::move(m));
}
inline Status CancelledError(std::string m) {
  return Status(ErrorCode::kCancelled, std::move(m));
}

// An error from a failed system call: "what: strerror(errno_value)". ENOSPC
// and EDQUOT become kNoSpace, ENOENT kNotFound, EEXIST kExists, else kFailed.
Status ErrnoError(std::string_view what, int errno_value);

// Quotes a value from the input for a message: 'name', with control and
// non-printable bytes escaped so a hostile name cannot forge output lines.
std::string Quote(std::string_view value);

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : v_(value) {}            // NOLINT
  Result(T&& value) : v_(std::move(value)) {}      // NOLINT
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ova2virt

#define OVA2VIRT_CONCAT_INNER_(a, b) a##b
#define OVA2VIRT_CONCAT_(a, b) OVA2VIRT_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the current function if it failed.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::ova2virt::Status ova2virt_status_ = (expr);        \
    if (!ova2virt_status_.ok()) return ova2virt_status_; \
  } while (0)

// Evaluates a Result-returning `rexpr`; on failure returns its Status, else
// moves the value into `lhs` (which may be a declaration: `auto x`).
#define ASSIGN_OR_RETURN(lhs, rexpr)                                        \
  ASSIGN_OR_RETURN_IMPL_(OVA2VIRT_CONCAT_(ova2virt_result_, __LINE__), lhs, \
                         rexpr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                           \
  if (!tmp.ok()) return tmp.status();           \
  lhs = std::move(tmp).value()

#endif  // OVA2VIRT_CORE_STATUS_H_

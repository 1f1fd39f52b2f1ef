#include "ova/member_name.h"

#include <cctype>
#include <vector>

namespace ova2virt {
namespace {

// Why `name` is unsafe, or empty when it is safe. `normalized` receives the
// name without "." components and empty components.
std::string Fault(std::string_view name, std::string* normalized) {
  if (name.empty()) return "empty name";
  if (name.size() > kMaxMemberName) {
    return "name longer than " + std::to_string(kMaxMemberName) + " bytes";
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "name contains control characters";
    // Another tool may take a backslash for a separator ("..\x").
    if (c == '\\') return "name contains a backslash";
  }
  if (name.front() == '/') return "absolute path";
  if (name.size() >= 2 && std::isalpha(static_cast<unsigned char>(name[0])) &&
      name[1] == ':') {
    return "absolute path";
  }
  normalized->clear();
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(pos, slash - pos);
    if (part == "..") return "'..' component";
    if (!part.empty() && part != ".") {
      if (!normalized->empty()) normalized->push_back('/');
      normalized->append(part);
    }
    pos = slash + 1;
  }
  return {};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> ValidateMemberName(std::string_view name) {
  std::string normalized;
  std::string why = Fault(name, &normalized);
  if (!why.empty()) return CorruptError("member " + Quote(name) + ": " + why);
  return normalized;
}

Result<std::string> ValidateHref(std::string_view href) {
  auto leaves = [&](std::string_view why) {
    return CorruptError("href " + Quote(href) +
                        " leaves the package: " + std::string(why));
  };
  // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
  // A relative reference cannot have a colon in its first segment, so any
  // such prefix is a URL ("file:", "http:") or a drive letter ("C:").
  if (!href.empty() && std::isalpha(static_cast<unsigned char>(href[0]))) {
    for (size_t i = 1; i < href.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(href[i]);
      if (c == ':') {
        return leaves("url " + Quote(href.substr(0, i + 1)));
      }
      if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') break;
    }
  }
  std::string normalized;
  std::string why = Fault(href, &normalized);
  if (why == "absolute path" || why == "'..' component") return leaves(why);
  if (!why.empty()) return CorruptError("href " + Quote(href) + ": " + why);
  if (normalized.empty())
    return CorruptError("href " + Quote(href) + ": names no file");
  // Percent-encoding must not smuggle what the plain form may not hold
  // ("%2e%2e%2f", "%2fetc"): another tool may decode it.
  if (href.find('%') != std::string_view::npos) {
    std::string decoded;
    for (size_t i = 0; i < href.size(); ++i) {
      if (href[i] == '%' && i + 2 < href.size() && HexValue(href[i + 1]) >= 0 &&
          HexValue(href[i + 2]) >= 0) {
        decoded.push_back(static_cast<char>(HexValue(href[i + 1]) * 16 +
                                            HexValue(href[i + 2])));
        i += 2;
      } else {
        decoded.push_back(href[i]);
      }
    }
    std::string ignored;
    std::string decoded_why = Fault(decoded, &ignored);
    if (!decoded_why.empty()) {
      return leaves(decoded_why + " once percent-decoded");
    }
  }
  return normalized;
}

bool IsAppleDouble(std::string_view name) {
  size_t slash = name.rfind('/');
  std::string_view base =
      slash == std::string_view::npos ? name : name.substr(slash + 1);
  return base.size() > 2 && base.substr(0, 2) == "._";
}

bool HasExtension(std::string_view name, std::string_view extension) {
  if (name.size() < extension.size()) return false;
  std::string_view tail = name.substr(name.size() - extension.size());
  for (size_t i = 0; i < tail.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(tail[i])) !=
        std::tolower(static_cast<unsigned char>(extension[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view BaseName(std::string_view name) {
  size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(0, dot);
}

}  // namespace ova2virt

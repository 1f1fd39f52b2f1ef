#include "convert/vmdk_descriptor.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "convert/vmdk_format.h"
#include "core/checked_math.h"
#include "core/strings.h"

namespace ova2virt {
namespace {

constexpr std::string_view kBom = "\xef\xbb\xbf";
constexpr std::string_view kMagicLine = "# Disk DescriptorFile";

std::string_view Unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

// Takes the next whitespace-separated token off the front of `s`.
std::string_view NextToken(std::string_view& s) {
  s = Trim(s);
  size_t end = 0;
  while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end]))) {
    ++end;
  }
  std::string_view token = s.substr(0, end);
  s.remove_prefix(end);
  return token;
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool IsAccess(std::string_view token) {
  return token == "RW" || token == "RDONLY" || token == "NOACCESS";
}

Result<VmdkExtent> ParseExtentLine(std::string_view line, int line_number) {
  auto bad = [&](std::string_view why) {
    return CorruptError("descriptor line " + std::to_string(line_number) +
                        ": " + std::string(why) + ": " +
                        Quote(line.substr(0, 200)));
  };
  VmdkExtent e;
  std::string_view rest = line;
  e.access = std::string(NextToken(rest));
  auto sectors = ParseDecimal(NextToken(rest));
  if (!sectors) return bad("extent size is not a number");
  e.sectors = *sectors;
  e.type = std::string(NextToken(rest));
  if (e.type.empty()) return bad("extent without a type");
  rest = Trim(rest);
  if (!rest.empty()) {
    if (rest.front() != '"') return bad("extent file name is not quoted");
    size_t close = rest.find('"', 1);
    if (close == std::string_view::npos) return bad("unterminated file name");
    e.file = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    std::string_view offset = NextToken(rest);
    if (!offset.empty()) {
      auto o = ParseDecimal(offset);
      if (!o) return bad("extent offset is not a number");
      e.offset = *o;
    }
    if (!Trim(rest).empty()) return bad("unexpected text after the extent");
  }
  if (e.type != "ZERO" && e.file.empty()) {
    return bad("extent without a file name");
  }
  return e;
}

}  // namespace

std::optional<std::string> VmdkDescriptor::Ddb(std::string_view key) const {
  for (const auto& [k, v] : ddb) {
    if (k == key) return v;
  }
  return std::nullopt;
}

Result<uint64_t> VmdkDescriptor::CapacityBytes() const {
  uint64_t total = 0;
  for (const VmdkExtent& e : extents) {
    auto bytes = CheckedMul<uint64_t>(e.sectors, vmdk::kSectorSize);
    auto sum =
        bytes ? CheckedAdd<uint64_t>(total, *bytes) : std::optional<uint64_t>();
    if (!sum) return CorruptError("descriptor: extent sizes overflow");
    total = *sum;
  }
  return total;
}

bool LooksLikeVmdkDescriptor(std::string_view text) {
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return text.substr(0, kMagicLine.size()) == kMagicLine;
}

Result<VmdkDescriptor> ParseVmdkDescriptor(std::string_view text) {
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    text = text.substr(0, nul);
  }
  if (text.size() > vmdk::kMaxDescriptorBytes) {
    return CorruptError("descriptor larger than 1 MiB");
  }
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  VmdkDescriptor d;
  int line_number = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view()
                                         : text.substr(eol + 1);
    ++line_number;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::string_view probe = line;
    if (IsAccess(NextToken(probe))) {
      if (d.extents.size() >= vmdk::kMaxExtents) {
        return CorruptError("descriptor: more than " +
                            std::to_string(vmdk::kMaxExtents) + " extents");
      }
      ASSIGN_OR_RETURN(VmdkExtent e, ParseExtentLine(line, line_number));
      d.extents.push_back(std::move(e));
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;  // tolerated, as VMware does
    std::string_view key = Trim(line.substr(0, eq));
    std::string value(Unquote(Trim(line.substr(eq + 1))));
    if (key.substr(0, 4) == "ddb.") {
      d.ddb.emplace_back(std::string(key), std::move(value));
    } else if (EqualsIgnoreCase(key, "version")) {
      d.version = std::move(value);
    } else if (EqualsIgnoreCase(key, "CID")) {
      d.cid = std::move(value);
    } else if (EqualsIgnoreCase(key, "parentCID")) {
      d.parent_cid = std::move(value);
    } else if (EqualsIgnoreCase(key, "createType")) {
      d.create_type = std::move(value);
    } else if (EqualsIgnoreCase(key, "parentFileNameHint")) {
      d.parent_file_name_hint = std::move(value);
    } else if (EqualsIgnoreCase(key, "encoding")) {
      d.encoding = std::move(value);
    } else if (EqualsIgnoreCase(key, "encryption")) {
      d.encrypted = true;
    }
  }
  return d;
}

bool IsSupportedCreateType(std::string_view t) {
  static constexpr std::string_view kSupported[] = {
      "monolithicSparse",   "monolithicFlat",   "twoGbMaxExtentSparse",
      "twoGbMaxExtentFlat", "streamOptimized",  "vmfs",
      "vmfsThin",           "vmfsPreallocated", "vmfsEagerZeroedThick",
  };
  for (std::string_view s : kSupported) {
    if (EqualsIgnoreCase(s, t)) return true;
  }
  return false;
}

Status CheckVmdkDescriptorSupported(const VmdkDescriptor& d) {
  if (d.encrypted) {
    return UnsupportedError("encrypted vmdk disks are not supported");
  }
  if (!IsSupportedCreateType(d.create_type)) {
    return UnsupportedError("vmdk createType " + Quote(d.create_type) +
                            " is not supported");
  }
  bool has_parent =
      !d.parent_cid.empty() && !EqualsIgnoreCase(d.parent_cid, "ffffffff");
  if (has_parent || !d.parent_file_name_hint.empty()) {
    return UnsupportedError("vmdk has a parent disk (a snapshot delta" +
                            (d.parent_file_name_hint.empty()
                                 ? std::string()
                                 : " of " + Quote(d.parent_file_name_hint)) +
                            "); consolidate the snapshot chain first");
  }
  return OkStatus();
}

Status CheckExtentName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return CorruptError("extent file name " + Quote(name) + " " +
                        std::string(why));
  };
  if (name.empty()) return bad("is empty");
  if (name.front() == '/') return bad("is an absolute path");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return bad("contains control characters");
    if (c == '\\') return bad("contains a backslash");
  }
  std::string_view rest = name;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part == "..") return bad("leaves the descriptor's folder");
    rest = slash == std::string_view::npos ? std::string_view()
                                           : rest.substr(slash + 1);
  }
  return OkStatus();
}

std::string FormatVmdkDescriptor(const VmdkDescriptor& d) {
  std::string out;
  out += "# Disk DescriptorFile\n";
  out += "version=" + (d.version.empty() ? std::string("1") : d.version) + "\n";
  if (!d.encoding.empty()) out += "encoding=\"" + d.encoding + "\"\n";
  out += "CID=" + d.cid + "\n";
  out += "parentCID=" +
         (d.parent_cid.empty() ? std::string("ffffffff") : d.parent_cid) + "\n";
  out += "createType=\"" + d.create_type + "\"\n";
  out += "\n# Extent description\n";
  for (const VmdkExtent& e : d.extents) {
    out += e.access + " " + std::to_string(e.sectors) + " " + e.type;
    if (!e.file.empty()) out += " \"" + e.file + "\"";
    if (e.type == "FLAT") out += " " + std::to_string(e.offset);
    out += "\n";
  }
  out += "\n# The Disk Data Base\n#DDB\n\n";
  for (const auto& [k, v] : d.ddb) out += k + " = \"" + v + "\"\n";
  return out;
}

}  // namespace ova2virt

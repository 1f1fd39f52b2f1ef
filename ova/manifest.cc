#include "ova/manifest.h"

#include <algorithm>

#include "core/strings.h"
#include "core/utf8.h"
#include "ova/member_name.h"

namespace ova2virt {
namespace {

// Blanks that producers leave around fields and at line ends; NUL too, as
// some writers pad with NULs instead of spaces. No '\n': lines are split
// on it first.
constexpr std::string_view kBlanks(" \t\r\0\f\v", 6);

// A line shown in an error message: quoted and shortened.
std::string ShowLine(std::string_view line) {
  if (line.size() > 80) return Quote(line.substr(0, 80)) + "...";
  return Quote(line);
}

}  // namespace

bool SplitDigestLine(std::string_view line, std::string_view* algorithm,
                     std::string_view* name, std::string_view* hex) {
  line = Trim(line, kBlanks);
  size_t open = line.find('(');
  size_t eq = line.rfind('=');
  if (open == std::string_view::npos || eq == std::string_view::npos ||
      eq < open) {
    return false;
  }
  // The name runs to the last ')' before the '=': names may hold brackets.
  std::string_view middle = line.substr(open + 1, eq - open - 1);
  middle = middle.substr(0, middle.find_last_not_of(kBlanks) + 1);
  if (middle.empty() || middle.back() != ')') return false;
  *algorithm = Trim(line.substr(0, open), kBlanks);
  *name = middle.substr(0, middle.size() - 1);
  *hex = Trim(line.substr(eq + 1), kBlanks);
  return !algorithm->empty();
}

Result<Manifest> ParseManifest(std::string_view text) {
  // Names are UTF-8 (a manifest is a text file); hex and algorithm names
  // ASCII. Checked with any byte order mark, so that columns count from
  // the file's first byte; the mark (from an editor) then goes.
  RETURN_IF_ERROR(CheckUtf8(text));
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  Manifest manifest;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = Trim(text.substr(pos, nl - pos), kBlanks);
    pos = nl + 1;
    ++line_number;
    if (line.empty()) continue;
    auto fail = [&](const std::string& why) {
      return CorruptError("line " + std::to_string(line_number) + ": " + why);
    };
    std::string_view algo_name, name, hex;
    if (!SplitDigestLine(line, &algo_name, &name, &hex)) {
      return fail("not a manifest entry: " + ShowLine(line));
    }
    auto algorithm = ParseDigestName(algo_name);
    if (!algorithm) {
      return UnsupportedError("line " + std::to_string(line_number) +
                              ": digest algorithm " + Quote(algo_name) +
                              " is not supported (SHA1, SHA256, SHA512 are)");
    }
    auto checked_name = ValidateMemberName(name);
    if (!checked_name.ok()) return fail(checked_name.status().message());
    if (checked_name->empty()) return fail("entry names no file");
    if (hex.size() != 2 * DigestSize(*algorithm)) {
      return fail(std::string(DigestName(*algorithm)) + " digest of " +
                  Quote(name) + " has " + std::to_string(hex.size()) +
                  " hex digits, expected " +
                  std::to_string(2 * DigestSize(*algorithm)));
    }
    auto bytes = FromHex(hex);
    if (!bytes) {
      return fail("digest of " + Quote(name) +
                  " is not hexadecimal: " + ShowLine(hex));
    }
    manifest.entries.push_back(
        {std::move(*checked_name), *algorithm, ToHex(*bytes), line_number});
  }
  return manifest;
}

std::vector<const ManifestEntry*> Manifest::Find(std::string_view name) const {
  std::vector<const ManifestEntry*> out;
  for (const ManifestEntry& e : entries) {
    if (e.name == name) out.push_back(&e);
  }
  return out;
}

std::vector<DigestAlgorithm> Manifest::Algorithms() const {
  std::vector<DigestAlgorithm> out;
  for (DigestAlgorithm a : kAllDigests) {
    if (std::any_of(entries.begin(), entries.end(),
                    [a](const ManifestEntry& e) { return e.algorithm == a; })) {
      out.push_back(a);
    }
  }
  return out;
}

std::vector<DigestAlgorithm> Manifest::AlgorithmsFor(
    std::string_view name) const {
  std::vector<DigestAlgorithm> out;
  for (DigestAlgorithm a : kAllDigests) {
    if (std::any_of(entries.begin(), entries.end(),
                    [&](const ManifestEntry& e) {
                      return e.algorithm == a && e.name == name;
                    })) {
      out.push_back(a);
    }
  }
  return out;
}

std::string FormatManifestLine(DigestAlgorithm algorithm, std::string_view name,
                               std::string_view hex_digest) {
  return std::string(DigestName(algorithm)) + "(" + std::string(name) +
         ")= " + std::string(hex_digest) + "\n";
}

}  // namespace ova2virt

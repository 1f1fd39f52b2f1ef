// Test-only helpers for the ova/ tests: appliances described in code, the
// loop every caller of PackageReader writes, and pipes.
#ifndef OVA2VIRT_OVA_TEST_FIXTURES_H_
#define OVA2VIRT_OVA_TEST_FIXTURES_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "ova/manifest.h"
#include "ova/package_reader.h"
#include "ova/references.h"
#include "tests/support/tar_builder.h"
#include "tests/support/test_util.h"

namespace ova2virt::testing {

// Deterministic bytes that differ from block to block.
inline std::string PatternBytes(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

// An appliance: a descriptor referencing its disks, the disks, and the
// manifest in a chosen style.
struct Appliance {
  std::string base = "app";
  std::vector<std::pair<std::string, std::string>> disks = {
      {"disk1.vmdk", PatternBytes(70000, 1)},
      {"disk2.vmdk", PatternBytes(1536, 2)}};
  std::vector<std::string> extra_hrefs;  // referenced, not necessarily present

  std::string ovf_name() const { return base + ".ovf"; }
  std::string mf_name() const { return base + ".mf"; }
  std::string cert_name() const { return base + ".cert"; }

  std::string Descriptor() const {
    std::string refs;
    int i = 0;
    auto add = [&](const std::string& href) {
      refs += "    <File ovf:href=\"" + href + "\" ovf:id=\"file" +
              std::to_string(++i) + "\"/>\n";
    };
    for (const auto& d : disks) add(d.first);
    for (const auto& h : extra_hrefs) add(h);
    return "<?xml version=\"1.0\"?>\n"
           "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
           "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\">\n"
           "  <References>\n" +
           refs +
           "  </References>\n"
           "</Envelope>\n";
  }

  // "SHA256(name)= hex" lines for the descriptor (if asked) and the disks.
  // `style` 0: ovftool; 1: "ALGO (name) = hex" with CRLF; 2: VirtualBox's
  // space padding after the lines.
  std::string Manifest(DigestAlgorithm algorithm, bool with_descriptor = true,
                       int style = 0) const {
    std::vector<std::pair<std::string, std::string>> files;
    if (with_descriptor) files.emplace_back(ovf_name(), Descriptor());
    files.insert(files.end(), disks.begin(), disks.end());
    std::string out;
    for (const auto& [name, data] : files) {
      std::string hex = DigestHex(algorithm, AsBytes(data));
      if (style == 1) {
        out += std::string(DigestName(algorithm)) + " (" + name + ") = " + hex +
               "\r\n";
      } else {
        out += FormatManifestLine(algorithm, name, hex);
      }
    }
    if (style == 2) out += std::string(68, ' ');
    return out;
  }

  // The usual layout: descriptor, manifest, disks; or with manifest_last,
  // descriptor, disks, manifest. Disk i is member i + DiskMember(...).
  TarBuilder Tar(DigestAlgorithm algorithm = DigestAlgorithm::kSha256,
                 TarFormat format = TarFormat::kUstar,
                 bool manifest_last = false) const {
    TarBuilder tar(format);
    tar.File(ovf_name(), Descriptor());
    if (!manifest_last) tar.File(mf_name(), Manifest(algorithm));
    for (const auto& d : disks) tar.File(d.first, d.second);
    if (manifest_last) tar.File(mf_name(), Manifest(algorithm));
    return tar;
  }
  // The member index of the first disk in Tar(..., manifest_last).
  static size_t DiskMember(bool manifest_last) { return manifest_last ? 1 : 2; }
};

// What a caller of PackageReader sees.
struct ReadOutcome {
  Status status;  // the first error, from Open, Next or Finish
  std::vector<MemberInfo> members;
  std::optional<VerificationReport> report;
  Diagnostics warnings;
  std::optional<InputKind> kind;
  bool in_place = false;  // InPlace() was available for file members
};

// Reads a package as the verify command does: every member, the
// descriptor's references expected, then Finish().
inline ReadOutcome ReadPackage(const std::string& input,
                               PackageReader::Options options = {},
                               const VerifyOptions& verify = {}) {
  ReadOutcome out;
  auto reader = PackageReader::Open(input, options);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  out.kind = (*reader)->kind();
  for (;;) {
    auto m = (*reader)->Next();
    if (!m.ok()) {
      out.status = m.status();
      out.warnings = (*reader)->warnings();
      out.members = (*reader)->members();
      return out;
    }
    if (!m->has_value()) break;
    out.members.push_back(**m);
    if ((*m)->role == MemberRole::kFile && (*reader)->InPlace()) {
      out.in_place = true;
    }
    if ((*m)->role == MemberRole::kDescriptor &&
        (*reader)->kind() != InputKind::kVmx) {
      auto refs = ReadFileReferences(*(*reader)->descriptor());
      if (!refs.ok()) {
        out.status = refs.status();
        return out;
      }
      std::vector<std::string> hrefs;
      for (const FileReference& r : *refs) hrefs.push_back(r.href);
      Status s = (*reader)->ExpectFiles(hrefs);
      if (!s.ok()) {
        out.status = s;
        return out;
      }
    }
  }
  out.warnings = (*reader)->warnings();
  if (!options.hash) return out;
  auto report = (*reader)->Finish(verify);
  if (!report.ok()) {
    out.status = report.status();
    return out;
  }
  out.warnings = report->warnings;
  out.report = std::move(*report);
  return out;
}

// Serves `bytes` through a named pipe in `dir` while `fn(path)` reads it, as
// `cat x.ova | ova2virt verify -` would. The writer gives up quietly when
// the reader stops early.
template <typename Fn>
auto ThroughPipe(const TempDir& dir, const std::string& bytes, Fn fn) {
  ::signal(SIGPIPE, SIG_IGN);
  std::string path = dir.Join("pipe");
  ::unlink(path.c_str());
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  std::thread writer([&] {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done,
                          std::min<size_t>(bytes.size() - done, 65536));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  auto result = fn(path);
  // A reader that failed before opening leaves the writer blocked in open:
  // opening and closing the read end releases it (its writes then fail).
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) ::close(fd);
  writer.join();
  return result;
}

// The error message, or "ok".
inline std::string Message(const Status& s) { return s.ToString(); }

}  // namespace ova2virt::testing

#endif  // OVA2VIRT_OVA_TEST_FIXTURES_H_

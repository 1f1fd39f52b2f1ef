// libFuzzer entry point: a whole package read from arbitrary bytes, as a
// seekable file and as a pipe (gzip-compressed tars included, since the
// first bytes decide). Build with -DOVA2VIRT_FUZZ=ON (clang).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "ova/package_reader.h"

namespace {

void ReadAll(const std::string& path) {
  auto reader = ova2virt::PackageReader::Open(path, {});
  if (!reader.ok()) return;
  for (;;) {
    auto m = (*reader)->Next();
    if (!m.ok() || !m->has_value()) break;
    if ((*m)->role == ova2virt::MemberRole::kDescriptor) {
      (void)(*reader)->ExpectFiles({"disk1.vmdk", "../x"});
    }
  }
  (void)(*reader)->Finish({});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One scratch directory per process, removed at exit (a fuzzing run
  // must not leave files in /tmp). Never destroyed itself: the exit
  // handler runs after static destructors would have.
  static const std::string& dir = *[] {
    const char* tmp = std::getenv("TMPDIR");
    auto* d = new std::string(std::string(tmp && *tmp ? tmp : "/tmp") +
                              "/ova2virt-fuzz-XXXXXX");
    if (mkdtemp(d->data()) == nullptr) std::abort();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    return d;
  }();
  const std::string path = dir + "/input.ova";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  ReadAll(path);
  return 0;
}

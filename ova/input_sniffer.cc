#include "ova/input_sniffer.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "ova/member_name.h"

namespace ova2virt {
namespace {

constexpr size_t kBlock = 512;

bool StartsWith(std::span<const uint8_t> head, std::string_view magic) {
  return head.size() >= magic.size() &&
         std::memcmp(head.data(), magic.data(), magic.size()) == 0;
}

// A tar header block: its checksum field matches the sum of its bytes (the
// field itself counted as spaces), unsigned as POSIX says or signed as some
// old writers did. An all-zero block is an empty archive.
bool LooksLikeTar(std::span<const uint8_t> head) {
  if (head.size() < kBlock) return false;
  head = head.first(kBlock);
  if (std::all_of(head.begin(), head.end(), [](uint8_t b) { return b == 0; })) {
    return true;
  }
  uint64_t stored = 0;
  size_t i = 148;
  while (i < 156 && (head[i] == ' ' || head[i] == 0)) ++i;
  size_t digits = 0;
  for (; i < 156 && head[i] >= '0' && head[i] <= '7'; ++i, ++digits) {
    stored = stored * 8 + (head[i] - '0');
  }
  if (digits == 0) return false;
  uint64_t sum = 0;
  int64_t signed_sum = 0;
  for (size_t j = 0; j < kBlock; ++j) {
    uint8_t b = (j >= 148 && j < 156) ? ' ' : head[j];
    sum += b;
    signed_sum += static_cast<int8_t>(b);
  }
  return stored == sum || static_cast<int64_t>(stored) == signed_sum;
}

bool LooksLikeXml(std::span<const uint8_t> head) {
  std::string_view s = AsStringView(head);
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  size_t first = s.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && s[first] == '<';
}

// What the first bytes say; `path` decides only between descriptors and
// what is no package at all.
Result<InputFormat> Classify(std::span<const uint8_t> head,
                             std::string_view path, bool files_allowed) {
  if (head.empty()) return CorruptError("empty file");
  auto unsupported = [](std::string_view what) {
    return UnsupportedError(std::string(what) +
                            ": only tar archives, plain or gzip-compressed, "
                            "are supported");
  };
  if (StartsWith(head, "\x1f\x8b")) return InputFormat::kGzipTar;
  if (StartsWith(head, std::string_view("\xfd"
                                        "7zXZ\0",
                                        6))) {
    return unsupported("xz-compressed data (decompress it with xz -d)");
  }
  if (StartsWith(head, "BZh")) {
    return unsupported("bzip2-compressed data (decompress it with bzip2 -d)");
  }
  if (StartsWith(head, "\x28\xb5\x2f\xfd")) {
    return unsupported("zstd-compressed data (decompress it with zstd -d)");
  }
  if (StartsWith(head, "PK\x03\x04")) return unsupported("a zip archive");
  if (LooksLikeTar(head)) return InputFormat::kTar;
  if (files_allowed) {
    if (HasExtension(path, ".vmx")) return InputFormat::kVmx;
    if (HasExtension(path, ".ovf") || LooksLikeXml(head)) {
      return InputFormat::kOvf;
    }
  }
  if (!files_allowed || HasExtension(path, ".ova")) {
    return CorruptError("not a tar archive");
  }
  return CorruptError("not an OVA, OVF or VMX file");
}

// The first bytes of a pipe, read to classify it, then the rest.
class PrefixedSource : public ByteSource {
 public:
  PrefixedSource(std::vector<uint8_t> prefix, File file)
      : prefix_(std::move(prefix)), inner_(std::move(file)) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    if (pos_ < prefix_.size()) {
      size_t n = std::min(out.size(), prefix_.size() - pos_);
      std::memcpy(out.data(), prefix_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return inner_.Read(out);
  }

 private:
  std::vector<uint8_t> prefix_;
  size_t pos_ = 0;
  FileSource inner_;
};

}  // namespace

Result<InputFormat> SniffFile(RandomAccessSource& file,
                              const std::string& path) {
  std::vector<uint8_t> head(
      static_cast<size_t>(std::min<uint64_t>(file.size(), kBlock)));
  RETURN_IF_ERROR(ReadExactlyAt(file, 0, head));
  return Classify(head, path, /*files_allowed=*/true);
}

Result<std::unique_ptr<PackageSource>> OpenSniffedStream(File file) {
  std::vector<uint8_t> head(kBlock);
  FileSource reader(File::Borrow(file.fd(), file.path()));
  ASSIGN_OR_RETURN(size_t n, ReadUpTo(reader, head));
  head.resize(n);
  ASSIGN_OR_RETURN(InputFormat format,
                   Classify(head, file.path(), /*files_allowed=*/false));
  auto stream =
      std::make_unique<PrefixedSource>(std::move(head), std::move(file));
  return OpenTarPipe(std::move(stream), format == InputFormat::kGzipTar);
}

Result<DirectoryDescriptor> FindDescriptorInDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError(dir, errno);
  std::vector<std::string> ovf, vmx;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (IsAppleDouble(name)) continue;
    bool is_ovf = HasExtension(name, ".ovf");
    bool is_vmx = HasExtension(name, ".vmx");
    if (!is_ovf && !is_vmx) continue;
    struct stat st;
    if (::stat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    (is_ovf ? ovf : vmx).push_back(std::move(name));
  }
  ::closedir(d);
  for (auto* list : {&ovf, &vmx}) {
    std::sort(list->begin(), list->end());
    if (list->size() > 1) {
      std::string names;
      for (const std::string& n : *list) {
        names += (names.empty() ? "" : ", ") + Quote(n);
      }
      return UsageError("directory " + Quote(dir) + " holds several " +
                        (list == &ovf ? "descriptors" : ".vmx files") + " (" +
                        names + "): name the one to use");
    }
    if (list->size() == 1) {
      return DirectoryDescriptor{list->front(), list == &ovf
                                                    ? InputKind::kOvfDirectory
                                                    : InputKind::kVmx};
    }
  }
  return CorruptError("no .ovf descriptor in directory " + Quote(dir));
}

}  // namespace ova2virt

#include "convert/disk_open.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "convert/owned_sources.h"
#include "convert/qcow2_format.h"
#include "convert/qcow2_reader.h"
#include "convert/raw.h"
#include "convert/vmdk_descriptor.h"
#include "convert/vmdk_format.h"
#include "convert/vmdk_sparse_reader.h"
#include "convert/vmdk_stream_reader.h"
#include "core/compress.h"
#include "core/endian.h"

namespace ova2virt {
namespace {

bool StartsWith(std::span<const uint8_t> head, std::string_view magic,
                size_t at = 0) {
  return head.size() >= at + magic.size() &&
         std::memcmp(head.data() + at, magic.data(), magic.size()) == 0;
}

Result<std::unique_ptr<DiskReader>> OpenProbed(const DiskSource& src,
                                               const OpenOptions& options,
                                               std::vector<uint8_t> head) {
  const bool stream_first = options.prefer_stream && src.stream != nullptr;
  if (options.format == "raw") {
    if (src.random != nullptr && !(stream_first && options.input_size != 0)) {
      return std::unique_ptr<DiskReader>(
          std::make_unique<RawReader>(*src.random, nullptr));
    }
    if (options.input_size == 0) {
      return UnsupportedError(
          "a raw image read from a stream needs its size; use a file");
    }
    auto prefixed =
        std::make_unique<PrefixedSource>(std::move(head), *src.stream);
    ByteSource& ref = *prefixed;
    return std::unique_ptr<DiskReader>(std::make_unique<RawReader>(
        ref, options.input_size, std::move(prefixed)));
  }
  ASSIGN_OR_RETURN(ProbedFormat kind, ProbeDiskFormat(head));
  bool is_vmdk = kind == ProbedFormat::kVmdkSparse ||
                 kind == ProbedFormat::kVmdkDescriptor;
  if (!options.format.empty()) {
    if (options.format != "vmdk" && options.format != "qcow2") {
      return UsageError("unknown input format " + Quote(options.format) +
                        " (want vmdk, qcow2 or raw)");
    }
    if ((options.format == "vmdk" && !is_vmdk) ||
        (options.format == "qcow2" && kind != ProbedFormat::kQcow2)) {
      return CorruptError("not a " + options.format + " image");
    }
  }
  auto prefixed = [&]() -> std::unique_ptr<ByteSource> {
    return std::make_unique<PrefixedSource>(head, *src.stream);
  };
  switch (kind) {
    case ProbedFormat::kVmdkSparse: {
      if (head.size() < vmdk::kSectorSize) {
        return CorruptError("vmdk header at byte 0: truncated");
      }
      vmdk::SparseHeader h = vmdk::ParseSparseHeader(
          std::span<const uint8_t, 512>(head.data(), 512));
      if (h.flags & vmdk::kFlagMarkers) {
        std::unique_ptr<ByteSource> stream;
        uint64_t size = options.input_size;
        if (src.random != nullptr && !stream_first) {
          stream = std::make_unique<SequentialReader>(*src.random);
          size = src.random->size();
        } else {
          stream = prefixed();
        }
        ByteSource& ref = *stream;
        ASSIGN_OR_RETURN(auto r,
                         VmdkStreamReader::Open(ref, std::move(stream), size));
        return std::unique_ptr<DiskReader>(std::move(r));
      }
      if (src.random != nullptr) {
        ASSIGN_OR_RETURN(auto r,
                         VmdkSparseReader::OpenRandom(*src.random, nullptr));
        return std::unique_ptr<DiskReader>(std::move(r));
      }
      std::unique_ptr<ByteSource> stream = prefixed();
      ByteSource& ref = *stream;
      ASSIGN_OR_RETURN(auto r, VmdkSparseReader::OpenSequential(
                                   ref, std::move(stream), options.input_size));
      return std::unique_ptr<DiskReader>(std::move(r));
    }
    case ProbedFormat::kVmdkDescriptor: {
      std::string text;
      if (src.random != nullptr) {
        if (src.random->size() > vmdk::kMaxDescriptorBytes) {
          return CorruptError("vmdk descriptor file larger than 1 MiB");
        }
        text.resize(src.random->size());
        RETURN_IF_ERROR(ReadExactlyAt(
            *src.random, 0,
            {reinterpret_cast<uint8_t*>(text.data()), text.size()}));
      } else {
        std::unique_ptr<ByteSource> stream = prefixed();
        auto all = ReadAllCapped(*stream, vmdk::kMaxDescriptorBytes);
        if (!all.ok()) return all.status().WithContext("vmdk descriptor");
        text = std::move(all).value();
      }
      ASSIGN_OR_RETURN(VmdkDescriptor d, ParseVmdkDescriptor(text));
      ASSIGN_OR_RETURN(auto r,
                       VmdkExtentsReader::Open(std::move(d), src.open_extent));
      return std::unique_ptr<DiskReader>(std::move(r));
    }
    case ProbedFormat::kQcow2: {
      if (src.random == nullptr) {
        return UnsupportedError(
            "a qcow2 image cannot be read from a stream (use a file)");
      }
      ASSIGN_OR_RETURN(auto r, Qcow2Reader::Open(*src.random, nullptr));
      return std::unique_ptr<DiskReader>(std::move(r));
    }
    case ProbedFormat::kUnknown:
      break;
  }
  return UnsupportedError(
      "unrecognised disk image format (a raw image must be named as such: "
      "-f raw)");
}

}  // namespace

Result<ProbedFormat> ProbeDiskFormat(std::span<const uint8_t> head) {
  if (head.size() >= 4) {
    uint32_t le = LoadLe32(head.data());
    if (le == vmdk::kSparseMagic) return ProbedFormat::kVmdkSparse;
    if (le == vmdk::kCowdMagic) {
      return UnsupportedError(
          "vmfsSparse (COWD) disks are not supported; consolidate or "
          "convert them on the ESXi host first");
    }
    if (LoadBe32(head.data()) == qcow2::kMagic) return ProbedFormat::kQcow2;
  }
  if (head.size() >= 8 && LoadLe64(head.data()) == 0xcafebabeull) {
    return UnsupportedError("seSparse disks are not supported");
  }
  if (LooksLikeVmdkDescriptor(AsStringView(head))) {
    return ProbedFormat::kVmdkDescriptor;
  }
  if (StartsWith(head, "vhdxfile")) {
    return UnsupportedError("VHDX images are not supported");
  }
  if (StartsWith(head, "conectix")) {
    return UnsupportedError("VHD images are not supported");
  }
  if (head.size() >= 0x44 && LoadLe32(head.data() + 0x40) == 0xbeda107f) {
    return UnsupportedError("VirtualBox VDI images are not supported");
  }
  if (LooksLikeGzip(head)) {
    return UnsupportedError(
        "the image is gzip-compressed; decompress it first");
  }
  return ProbedFormat::kUnknown;
}

Result<std::unique_ptr<DiskReader>> OpenDiskReader(const DiskSource& source,
                                                   const OpenOptions& options) {
  if (source.stream == nullptr && source.random == nullptr) {
    return UsageError(source.name + ": no input");
  }
  std::vector<uint8_t> head(512);
  size_t got = 0;
  if (source.random != nullptr &&
      !(options.prefer_stream && source.stream != nullptr)) {
    auto n = source.random->ReadAt(
        0, {head.data(), static_cast<size_t>(std::min<uint64_t>(
                             head.size(), source.random->size()))});
    if (!n.ok()) return n.status().WithContext(source.name);
    got = *n;
  } else {
    auto n = ReadUpTo(*source.stream, head);
    if (!n.ok()) return n.status().WithContext(source.name);
    got = *n;
  }
  head.resize(got);
  auto r = OpenProbed(source, options, std::move(head));
  if (!r.ok()) return r.status().WithContext(source.name);
  return r;
}

}  // namespace ova2virt

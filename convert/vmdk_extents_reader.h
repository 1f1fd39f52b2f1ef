// Reads a VMDK described by a text descriptor file: monolithicFlat,
// twoGbMaxExtentSparse/Flat, vmfs/vmfsThin, and any mix of SPARSE, FLAT,
// VMFS and ZERO extents. Extent files are opened one at a time, when they
// are reached, through a callback; their names are checked first (no
// absolute paths, no ".."), here and again by the callback's owner.
#ifndef OVA2VIRT_CONVERT_VMDK_EXTENTS_READER_H_
#define OVA2VIRT_CONVERT_VMDK_EXTENTS_READER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "convert/disk_reader.h"
#include "convert/vmdk_descriptor.h"
#include "core/byte_stream.h"

namespace ova2virt {

using OpenExtentFn = std::function<Result<std::unique_ptr<RandomAccessSource>>(
    std::string_view name)>;

class VmdkExtentsReader : public DiskReader {
 public:
  // Checks the descriptor (create type allowlist, no parent, no encryption,
  // extent types and names, total size) before anything is opened.
  static Result<std::unique_ptr<VmdkExtentsReader>> Open(
      VmdkDescriptor descriptor, OpenExtentFn open_extent);
  ~VmdkExtentsReader() override;

  uint64_t capacity() const override { return capacity_; }
  Result<bool> Next(DataRun* run) override;
  std::string_view format_name() const override { return format_name_; }
  void SetThreads(int threads) override { threads_ = threads; }
  ReadProgress progress() const override;
  uint64_t bytes_read() const override;

 private:
  VmdkExtentsReader() = default;
  Status OpenExtent();

  VmdkDescriptor descriptor_;
  OpenExtentFn open_extent_;
  std::string format_name_;
  uint64_t capacity_ = 0;
  int threads_ = 0;
  size_t index_ = 0;     // the extent being read
  uint64_t base_ = 0;    // its first guest byte
  uint64_t length_ = 0;  // its size in bytes
  bool opened_ = false;
  uint64_t done_bytes_read_ = 0;
  std::unique_ptr<DiskReader> current_;
};

}  // namespace ova2virt

#endif  // OVA2VIRT_CONVERT_VMDK_EXTENTS_READER_H_

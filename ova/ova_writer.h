// OvaWriter: writes an OVA -- a deterministic tar -- to a seekable output.
//
// POSIX ustar headers; a pax extended header only when a name or a size
// needs one (a name that ustar cannot hold, or is not ASCII; a size of
// 8 GiB or more). Every member has mode 0644, uid and gid 0, user and group
// "root", and the same modification time (0 unless given), so the same
// members give the same bytes, run after run. GNU tar, Python's tarfile and
// PackageReader read what it writes.
//
//   OvaWriter ova(sink);
//   RETURN_IF_ERROR(ova.AddFile("app.ovf", AsBytes(descriptor)));
//   ASSIGN_OR_RETURN(ByteSink* disk, ova.BeginStream("app-disk1.vmdk"));
//   ...write the VMDK into *disk...
//   RETURN_IF_ERROR(ova.EndStream());
//   RETURN_IF_ERROR(ova.AddFile("app.mf", AsBytes(MakeManifest(...))));
//   RETURN_IF_ERROR(ova.Finish());
#ifndef OVA2VIRT_OVA_OVA_WRITER_H_
#define OVA2VIRT_OVA_OVA_WRITER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_stream.h"
#include "core/digest.h"
#include "core/status.h"
#include "ova/member.h"

namespace ova2virt {

// A member as written, with its digest for the manifest.
struct WrittenMember {
  MemberInfo info;     // name, offset of the data, size
  std::string digest;  // hex, with OvaWriter::Options::digest; empty if none
};

class OvaWriter {
 public:
  struct Options {
    uint64_t mtime = 0;  // every member's modification time
    // Each member is hashed as it is written, for the manifest.
    std::optional<DigestAlgorithm> digest = DigestAlgorithm::kSha256;
  };

  // Writes at offsets from 0 of `out`, which must outlive the writer.
  explicit OvaWriter(BlockSink& out);
  OvaWriter(BlockSink& out, Options options);
  ~OvaWriter();
  OvaWriter(const OvaWriter&) = delete;
  OvaWriter& operator=(const OvaWriter&) = delete;

  // Adds a member holding `data`. kUsage for a name that is not a safe
  // member name (see ValidateMemberName), a name already written, or a call
  // while a stream is open or after Finish().
  Status AddFile(std::string_view name, std::span<const uint8_t> data);

  // Starts a member whose size is not known in advance; its bytes go
  // through the returned sink (valid until EndStream()), and EndStream()
  // writes the size into the header. `size_limit`, when known, is the most
  // the member can grow to: 8 GiB or more reserves a pax header for the
  // size. A member that outgrows ustar without that reservation gets a GNU
  // base-256 size field, which GNU tar, Python, libarchive and PackageReader
  // read. kUsage as for AddFile.
  Result<ByteSink*> BeginStream(
      std::string_view name, std::optional<uint64_t> size_limit = std::nullopt);
  Status EndStream();

  // Reserves a member of exactly `size` bytes whose content is known only
  // later (a descriptor that states the sizes of the disks after it, a
  // manifest of their digests): writes its headers and `size` placeholder
  // zeros, and returns its index in members(). FillReserved() writes the
  // real bytes in place, before or after Finish(). kUsage as for AddFile.
  Result<size_t> ReserveFile(std::string_view name, uint64_t size);
  // Writes the content of the member ReserveFile() returned `index` for and
  // records its digest. kUsage when `index` is not an unfilled reservation
  // or `data` is not exactly the reserved size (callers pad: trailing white
  // space is harmless in XML, manifests and certificate files).
  Status FillReserved(size_t index, std::span<const uint8_t> data);

  // Writes the end-of-archive blocks and pads to a 10 KiB record, as GNU
  // tar does. Nothing may be added afterwards.
  Status Finish();

  // The members written so far, in order.
  const std::vector<WrittenMember>& members() const { return members_; }
  // Bytes written so far (the archive's size once finished).
  uint64_t size() const { return pos_; }

 private:
  class StreamSink;
  Status CheckName(std::string_view name, std::string* normalized);
  Status WriteHeaders(const std::string& name, uint64_t size,
                      bool reserve_pax_size, uint64_t* header_offset);
  Status WritePadded(std::span<const uint8_t> data);

  BlockSink& out_;
  Options options_;
  uint64_t pos_ = 0;
  bool finished_ = false;
  std::set<std::string> names_;
  std::vector<WrittenMember> members_;
  std::set<size_t> reserved_;  // indexes of members not yet filled
  std::unique_ptr<StreamSink> stream_;
};

// One item of a manifest: a member name and its digest (hex).
struct ManifestItem {
  std::string name;
  std::string digest;
};

// The manifest text ovftool writes: "SHA256(name)= hex\n" per item, in the
// order given.
std::string MakeManifest(const std::vector<ManifestItem>& items,
                         DigestAlgorithm algorithm);
// The items for every member written so far (use the writer's algorithm).
std::vector<ManifestItem> ManifestItems(
    const std::vector<WrittenMember>& members);

// The `.cert` text for `manifest` (its exact bytes), as member
// `manifest_name`: the signature line, made with the PEM private key, then
// the PEM certificate(s) (signer first). kUsage when the key does not
// parse, the certificate does not parse, or the key is not the
// certificate's.
Result<std::string> SignManifest(std::string_view manifest,
                                 std::string_view manifest_name,
                                 std::string_view key_pem,
                                 std::string_view cert_pem,
                                 DigestAlgorithm algorithm);

}  // namespace ova2virt

#endif  // OVA2VIRT_OVA_OVA_WRITER_H_

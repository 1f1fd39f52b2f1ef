// TarBuilder: writes tar archives in code, byte by byte, so tests can make
// exactly the archive they need -- including the hostile ones no tar tool
// would write: absolute and ".." names, links, devices, fifos, duplicates,
// control characters, huge declared sizes, bad checksums, missing end
// blocks. Formats: POSIX ustar, pax (extended headers when a name or size
// needs them, or when asked) and GNU (././@LongLink names, base-256 sizes).
//
// It is independent of libarchive on purpose: it is the referee for the
// reader, together with Python's tarfile.
#ifndef OVA2VIRT_TESTS_SUPPORT_TAR_BUILDER_H_
#define OVA2VIRT_TESTS_SUPPORT_TAR_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ova2virt::testing {

enum class TarFormat { kUstar, kPax, kGnu };

// One member as it is written. Most tests use the TarBuilder shorthands.
struct TarMember {
  std::string name;
  std::string data;
  char type = '0';  // '0' file, '1' hardlink, '2' symlink, '3' char device,
                    // '4' block device, '5' directory, '6' fifo
  std::string linkname;
  // When set, the member's data is this many zero bytes, written as a hole
  // by WriteFile (an 8 GiB member costs no disk space) and `data` is unused.
  uint64_t hole_size = 0;
  // The size written in the header when it should differ from the data
  // (a member that claims more than the archive holds).
  std::optional<uint64_t> declared_size;
  uint32_t mode = 0644;
  uint64_t mtime = 0;
  bool bad_checksum = false;
  // Extra pax records for this member (kPax only), e.g. {"path", "../x"}.
  std::vector<std::pair<std::string, std::string>> pax_records;

  uint64_t size() const { return hole_size ? hole_size : data.size(); }
};

// Where a member's data ended up: what a reader must report.
struct TarLayout {
  std::string name;
  uint64_t header_offset;  // first header block (extension headers included)
  uint64_t data_offset;
  uint64_t size;
};

class TarBuilder {
 public:
  explicit TarBuilder(TarFormat format = TarFormat::kUstar) : format_(format) {}

  TarBuilder& File(std::string name, std::string data);
  // `size` zero bytes, written sparsely by WriteFile.
  TarBuilder& Hole(std::string name, uint64_t size);
  TarBuilder& Directory(std::string name);
  TarBuilder& Symlink(std::string name, std::string target);
  TarBuilder& Hardlink(std::string name, std::string target);
  TarBuilder& CharDevice(std::string name);
  TarBuilder& BlockDevice(std::string name);
  TarBuilder& Fifo(std::string name);
  TarBuilder& Add(TarMember member);

  // How many zero blocks end the archive (2 is correct; 0 and 1 are what
  // sloppy or truncated writers leave).
  TarBuilder& EndBlocks(int count) {
    end_blocks_ = count;
    return *this;
  }
  // Pads the archive to a multiple of this many bytes (GNU tar and Python
  // use 10240); 0 for no padding.
  TarBuilder& RecordSize(uint64_t bytes) {
    record_size_ = bytes;
    return *this;
  }

  // The whole archive in memory (holes materialized; REQUIREs they are
  // small).
  std::string Build() const;
  // Writes the archive to `path`, holes as holes.
  void WriteFile(const std::string& path) const;
  // Where each member's data lies, in order.
  std::vector<TarLayout> Layout() const;

 private:
  struct Piece {
    std::string bytes;   // header blocks, or data
    uint64_t zeros = 0;  // or this many zero bytes (a hole)
  };
  std::vector<Piece> Pieces(std::vector<TarLayout>* layout) const;
  void AppendMember(const TarMember& m, std::vector<Piece>& out) const;

  TarFormat format_;
  std::vector<TarMember> members_;
  int end_blocks_ = 2;
  uint64_t record_size_ = 10240;
};

}  // namespace ova2virt::testing

#endif  // OVA2VIRT_TESTS_SUPPORT_TAR_BUILDER_H_

// A ByteSource that reads several pieces one after another, as if they were
// one stream: a chunked package member (OVF ovf:chunkSize) arrives as
// "disk1.vmdk.000000000", "disk1.vmdk.000000001"... and the disk reader must
// see the whole file.
#ifndef OVA2VIRT_CORE_CHAIN_SOURCE_H_
#define OVA2VIRT_CORE_CHAIN_SOURCE_H_

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/byte_stream.h"
#include "core/status.h"

namespace ova2virt {

class ChainSource : public ByteSource {
 public:
  // Returns piece `index` (0, 1, 2...), or nullptr after the last piece; an
  // error stops the chain. Each piece is read to its end before the next is
  // asked for, so a callback over a forward-only tar stream works.
  using NextPiece =
      std::function<Result<std::unique_ptr<ByteSource>>(size_t index)>;

  explicit ChainSource(NextPiece next) : next_(std::move(next)) {}

  Result<size_t> Read(std::span<uint8_t> out) override {
    if (out.empty()) return size_t{0};
    while (!done_) {
      if (current_ == nullptr) {
        auto piece = next_(pieces_);
        if (!piece.ok()) {
          return piece.status().WithContext("piece " + std::to_string(pieces_));
        }
        current_ = std::move(piece).value();
        if (current_ == nullptr) {
          done_ = true;
          break;
        }
        ++pieces_;
      }
      ASSIGN_OR_RETURN(size_t n, current_->Read(out));
      if (n > 0) return n;
      current_.reset();  // this piece is exhausted: on to the next
    }
    return size_t{0};
  }

  // Pieces opened so far.
  size_t pieces() const { return pieces_; }

 private:
  NextPiece next_;
  std::unique_ptr<ByteSource> current_;
  size_t pieces_ = 0;
  bool done_ = false;
};

// The name of chunk `index` of a chunked file: "disk1.vmdk.000000001" (OVF
// 1.x section 5: nine decimal digits).
inline std::string ChunkName(std::string_view base, size_t index) {
  char digits[32];
  std::snprintf(digits, sizeof digits, ".%09zu", index);
  return std::string(base) + digits;
}

}  // namespace ova2virt

#endif  // OVA2VIRT_CORE_CHAIN_SOURCE_H_

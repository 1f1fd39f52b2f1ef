#include "ova/ova_writer.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/checked_math.h"
#include "core/crypto.h"
#include "ova/certificate_file.h"
#include "ova/manifest.h"
#include "ova/member_name.h"

namespace ova2virt {
namespace {

constexpr uint64_t kBlock = 512;
constexpr uint64_t kRecord = 10240;
constexpr uint64_t kMaxUstarSize = 077777777777;  // 11 octal digits
constexpr std::array<uint8_t, kRecord> kZeros = {};
// A reserved pax size value is written with this many digits, so patching
// it never changes the header's length.
constexpr size_t kSizeDigits = 20;

uint64_t Padding(uint64_t n) { return (kBlock - n % kBlock) % kBlock; }

void PutOctal(char* field, size_t width, uint64_t value) {
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  field[width - 1] = '\0';
}

// GNU base-256: the top bit of the first byte set, the value big-endian.
void PutBase256(char* field, size_t width, uint64_t value) {
  std::memset(field, 0, width);
  field[0] = static_cast<char>(0x80);
  for (size_t i = width; i-- > 1 && value != 0;) {
    field[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

// One ustar header block.
std::string UstarHeader(std::string_view name, std::string_view prefix,
                        char type, uint64_t size, uint64_t mtime) {
  std::string h(kBlock, '\0');
  char* b = h.data();
  std::memcpy(b, name.data(), std::min<size_t>(name.size(), 100));
  PutOctal(b + 100, 8, 0644);
  PutOctal(b + 108, 8, 0);
  PutOctal(b + 116, 8, 0);
  if (size > kMaxUstarSize) {
    PutBase256(b + 124, 12, size);
  } else {
    PutOctal(b + 124, 12, size);
  }
  PutOctal(b + 136, 12, std::min<uint64_t>(mtime, kMaxUstarSize));
  b[156] = type;
  std::memcpy(b + 257, "ustar", 6);
  std::memcpy(b + 263, "00", 2);
  std::memcpy(b + 265, "root", 4);
  std::memcpy(b + 297, "root", 4);
  PutOctal(b + 329, 8, 0);
  PutOctal(b + 337, 8, 0);
  std::memcpy(b + 345, prefix.data(), std::min<size_t>(prefix.size(), 155));
  std::memset(b + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  PutOctal(b + 148, 7, sum);
  b[155] = ' ';
  return h;
}

// "LEN key=value\n", LEN counting the whole record, itself included.
std::string PaxRecord(std::string_view key, std::string_view value) {
  size_t body = key.size() + value.size() + 3;
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) ++len;
  return std::to_string(len) + " " + std::string(key) + "=" +
         std::string(value) + "\n";
}

std::string FixedSize(uint64_t size) {
  std::string digits = std::to_string(size);
  return std::string(kSizeDigits - digits.size(), '0') + digits;
}

// ustar's name (100) and prefix (155) fields, split at a slash.
bool SplitUstarName(const std::string& name, std::string* prefix,
                    std::string* rest) {
  if (name.size() <= 100) {
    prefix->clear();
    *rest = name;
    return true;
  }
  for (size_t slash = name.find('/'); slash != std::string::npos;
       slash = name.find('/', slash + 1)) {
    if (slash > 0 && slash <= 155 && name.size() - slash - 1 <= 100) {
      *prefix = name.substr(0, slash);
      *rest = name.substr(slash + 1);
      return true;
    }
  }
  return false;
}

MemberRole RoleOf(const std::string& name) {
  if (HasExtension(name, ".ovf")) return MemberRole::kDescriptor;
  if (HasExtension(name, ".mf")) return MemberRole::kManifest;
  if (HasExtension(name, ".cert")) return MemberRole::kCertificate;
  return MemberRole::kFile;
}

}  // namespace

// The open stream's bytes: written straight to their place in the archive,
// hashed on the way.
class OvaWriter::StreamSink : public ByteSink {
 public:
  StreamSink(OvaWriter& writer, std::string name, uint64_t header_offset,
             bool pax_size, uint64_t pax_data_offset, std::string pax_prefix)
      : writer_(writer),
        name_(std::move(name)),
        header_offset_(header_offset),
        pax_size_(pax_size),
        pax_data_offset_(pax_data_offset),
        pax_prefix_(std::move(pax_prefix)),
        data_offset_(writer.pos_) {
    if (writer.options_.digest) hasher_.emplace(*writer.options_.digest);
  }

  Status Write(std::span<const uint8_t> data) override {
    if (closed_) return FailedError("stream " + Quote(name_) + " is closed");
    RETURN_IF_ERROR(writer_.out_.WriteAt(writer_.pos_, data));
    if (hasher_) hasher_->Update(data);
    writer_.pos_ += data.size();
    size_ += data.size();
    return OkStatus();
  }

  // Pads the data and writes the header again, now with the size.
  Status End(WrittenMember* member) {
    closed_ = true;
    RETURN_IF_ERROR(writer_.out_.WriteAt(
        writer_.pos_, std::span<const uint8_t>(kZeros).first(Padding(size_))));
    writer_.pos_ += Padding(size_);
    if (pax_size_) {
      // The reserved record has a fixed width: same length, new digits.
      std::string records = pax_prefix_ + PaxRecord("size", FixedSize(size_));
      RETURN_IF_ERROR(writer_.out_.WriteAt(pax_data_offset_, AsBytes(records)));
    }
    std::string prefix, header_name;
    if (!SplitUstarName(name_, &prefix, &header_name)) {
      header_name = name_.substr(0, 100);
      prefix.clear();
    }
    uint64_t field = pax_size_ && size_ > kMaxUstarSize ? 0 : size_;
    RETURN_IF_ERROR(writer_.out_.WriteAt(
        header_offset_, AsBytes(UstarHeader(header_name, prefix, '0', field,
                                            writer_.options_.mtime))));
    member->info = {name_, data_offset_, size_, RoleOf(name_)};
    if (hasher_) member->digest = hasher_->FinishHex();
    return OkStatus();
  }

 private:
  OvaWriter& writer_;
  std::string name_;
  uint64_t header_offset_;
  bool pax_size_;
  uint64_t pax_data_offset_;
  std::string pax_prefix_;
  uint64_t data_offset_;
  uint64_t size_ = 0;
  bool closed_ = false;
  std::optional<Hasher> hasher_;
};

OvaWriter::OvaWriter(BlockSink& out) : OvaWriter(out, Options()) {}
OvaWriter::OvaWriter(BlockSink& out, Options options)
    : out_(out), options_(options) {}
OvaWriter::~OvaWriter() = default;

Status OvaWriter::CheckName(std::string_view name, std::string* normalized) {
  if (finished_) return UsageError("the archive is already finished");
  if (stream_) {
    return UsageError("member " + Quote(name) + ": a stream is still open");
  }
  auto checked = ValidateMemberName(name);
  if (!checked.ok())
    return Status(ErrorCode::kUsage, checked.status().message());
  if (checked->empty() || name.back() == '/') {
    return UsageError("member " + Quote(name) + ": not a file name");
  }
  if (!names_.insert(*checked).second) {
    return UsageError("member " + Quote(*checked) + ": written already");
  }
  *normalized = std::move(*checked);
  return OkStatus();
}

// Writes the pax header (when needed) and the ustar header for `name`.
// With `reserve_pax_size`, the size is left to be patched by EndStream().
Status OvaWriter::WriteHeaders(const std::string& name, uint64_t size,
                               bool reserve_pax_size, uint64_t* header_offset) {
  std::string prefix, header_name;
  bool ascii = std::all_of(name.begin(), name.end(),
                           [](char c) { return (c & 0x80) == 0; });
  bool pax_path = !ascii || !SplitUstarName(name, &prefix, &header_name);
  std::string path_record;
  if (pax_path) {
    path_record = PaxRecord("path", name);
    prefix.clear();
    header_name.clear();
    // What a reader without pax sees: an ASCII stand-in.
    for (char c : name.substr(0, 100)) {
      header_name += (c & 0x80) ? '_' : c;
    }
  }
  std::string records = path_record;
  const bool pax_size = reserve_pax_size || size > kMaxUstarSize;
  if (reserve_pax_size) {
    records += PaxRecord("size", FixedSize(size));
  } else if (pax_size) {
    records += PaxRecord("size", std::to_string(size));
  }
  if (!records.empty()) {
    std::string base = name.substr(name.rfind('/') + 1);
    std::string xname;
    for (char c : "PaxHeaders/" + base.substr(0, 80)) {
      xname += (c & 0x80) ? '_' : c;
    }
    std::string x = UstarHeader(xname, "", 'x', records.size(), options_.mtime);
    RETURN_IF_ERROR(out_.WriteAt(pos_, AsBytes(x)));
    pos_ += kBlock;
    RETURN_IF_ERROR(WritePadded(AsBytes(records)));
  }
  *header_offset = pos_;
  // With a pax size, the ustar field holds the size only if it fits.
  uint64_t field = pax_size && size > kMaxUstarSize ? 0 : size;
  RETURN_IF_ERROR(out_.WriteAt(
      pos_,
      AsBytes(UstarHeader(header_name, prefix, '0', field, options_.mtime))));
  pos_ += kBlock;
  return OkStatus();
}

Status OvaWriter::WritePadded(std::span<const uint8_t> data) {
  RETURN_IF_ERROR(out_.WriteAt(pos_, data));
  pos_ += data.size();
  uint64_t pad = Padding(data.size());
  RETURN_IF_ERROR(
      out_.WriteAt(pos_, std::span<const uint8_t>(kZeros).first(pad)));
  pos_ += pad;
  return OkStatus();
}

Status OvaWriter::AddFile(std::string_view name,
                          std::span<const uint8_t> data) {
  std::string checked;
  RETURN_IF_ERROR(CheckName(name, &checked));
  uint64_t header_offset = 0;
  RETURN_IF_ERROR(WriteHeaders(checked, data.size(), false, &header_offset));
  WrittenMember member;
  member.info = {checked, pos_, data.size(), RoleOf(checked)};
  if (options_.digest) member.digest = DigestHex(*options_.digest, data);
  RETURN_IF_ERROR(WritePadded(data));
  members_.push_back(std::move(member));
  return OkStatus();
}

Result<size_t> OvaWriter::ReserveFile(std::string_view name, uint64_t size) {
  std::string checked;
  RETURN_IF_ERROR(CheckName(name, &checked));
  uint64_t header_offset = 0;
  RETURN_IF_ERROR(WriteHeaders(checked, size, false, &header_offset));
  WrittenMember member;
  member.info = {checked, pos_, size, RoleOf(checked)};
  // Placeholder zeros, so that the archive is whole even if the member is
  // never filled (a reader then sees zeros, and a digest mismatch).
  for (uint64_t left = size; left > 0;) {
    uint64_t n = std::min<uint64_t>(kZeros.size(), left);
    RETURN_IF_ERROR(
        out_.WriteAt(pos_, std::span<const uint8_t>(kZeros).first(n)));
    pos_ += n;
    left -= n;
  }
  uint64_t pad = Padding(size);
  RETURN_IF_ERROR(
      out_.WriteAt(pos_, std::span<const uint8_t>(kZeros).first(pad)));
  pos_ += pad;
  reserved_.insert(members_.size());
  members_.push_back(std::move(member));
  return members_.size() - 1;
}

Status OvaWriter::FillReserved(size_t index, std::span<const uint8_t> data) {
  if (reserved_.count(index) == 0) {
    return UsageError("member " + std::to_string(index) +
                      " is not a reserved member waiting for its content");
  }
  WrittenMember& member = members_[index];
  if (data.size() != member.info.size) {
    return UsageError("member " + Quote(member.info.name) + ": " +
                      std::to_string(data.size()) + " bytes for a " +
                      std::to_string(member.info.size) + "-byte reservation");
  }
  RETURN_IF_ERROR(out_.WriteAt(member.info.offset, data));
  if (options_.digest) member.digest = DigestHex(*options_.digest, data);
  reserved_.erase(index);
  return OkStatus();
}

Result<ByteSink*> OvaWriter::BeginStream(std::string_view name,
                                         std::optional<uint64_t> size_limit) {
  std::string checked;
  RETURN_IF_ERROR(CheckName(name, &checked));
  bool reserve = size_limit && *size_limit > kMaxUstarSize;
  uint64_t start = pos_;
  uint64_t header_offset = 0;
  RETURN_IF_ERROR(WriteHeaders(checked, 0, reserve, &header_offset));
  // The pax records (if any) start one block after the pax header; keep
  // what precedes the size record to write it again with the real size.
  std::string path_prefix;
  if (header_offset != start) {
    bool ascii = std::all_of(checked.begin(), checked.end(),
                             [](char c) { return (c & 0x80) == 0; });
    std::string p, r;
    if (!ascii || !SplitUstarName(checked, &p, &r)) {
      path_prefix = PaxRecord("path", checked);
    }
  }
  stream_ = std::make_unique<StreamSink>(*this, checked, header_offset, reserve,
                                         start + kBlock, path_prefix);
  return static_cast<ByteSink*>(stream_.get());
}

Status OvaWriter::EndStream() {
  if (!stream_) return UsageError("no stream is open");
  WrittenMember member;
  Status s = stream_->End(&member);
  stream_.reset();
  RETURN_IF_ERROR(s);
  members_.push_back(std::move(member));
  return OkStatus();
}

Status OvaWriter::Finish() {
  if (stream_) return UsageError("a stream is still open");
  if (finished_) return OkStatus();
  finished_ = true;
  uint64_t end = pos_ + 2 * kBlock;
  uint64_t total = DivRoundUp(end, kRecord) * kRecord;
  while (pos_ < total) {
    uint64_t n = std::min<uint64_t>(kZeros.size(), total - pos_);
    RETURN_IF_ERROR(
        out_.WriteAt(pos_, std::span<const uint8_t>(kZeros).first(n)));
    pos_ += n;
  }
  return out_.SetSize(pos_);
}

std::string MakeManifest(const std::vector<ManifestItem>& items,
                         DigestAlgorithm algorithm) {
  std::string out;
  for (const ManifestItem& item : items) {
    out += FormatManifestLine(algorithm, item.name, item.digest);
  }
  return out;
}

std::vector<ManifestItem> ManifestItems(
    const std::vector<WrittenMember>& members) {
  std::vector<ManifestItem> out;
  for (const WrittenMember& m : members) {
    if (!m.digest.empty()) out.push_back({m.info.name, m.digest});
  }
  return out;
}

Result<std::string> SignManifest(std::string_view manifest,
                                 std::string_view manifest_name,
                                 std::string_view key_pem,
                                 std::string_view cert_pem,
                                 DigestAlgorithm algorithm) {
  auto certs = Certificate::ParseAllPem(cert_pem);
  if (!certs.ok()) {
    return UsageError("signing certificate: " + certs.status().message());
  }
  ASSIGN_OR_RETURN(bool matches,
                   KeyMatchesCertificate(key_pem, certs->front()));
  if (!matches) {
    return UsageError("the signing key does not belong to the certificate " +
                      Quote(certs->front().info().subject));
  }
  ASSIGN_OR_RETURN(std::vector<uint8_t> signature,
                   SignData(key_pem, algorithm, AsBytes(manifest)));
  return FormatCertificateFile(algorithm, manifest_name, signature, cert_pem);
}

}  // namespace ova2virt

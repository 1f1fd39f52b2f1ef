#include "tests/support/tar_builder.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace ova2virt::testing {
namespace {

constexpr uint64_t kBlock = 512;
constexpr uint64_t kMaxOctalSize = 077777777777;  // 11 octal digits

uint64_t Padding(uint64_t size) { return (kBlock - size % kBlock) % kBlock; }

// An octal number in a field of `width` bytes: width-1 digits and a NUL.
void PutOctal(char* field, size_t width, uint64_t value) {
  std::string digits(width - 1, '0');
  for (size_t i = width - 1; i-- > 0 && value;) {
    digits[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

// GNU base-256: the high bit of the first byte set, the value big-endian.
void PutBase256(char* field, size_t width, uint64_t value) {
  std::memset(field, 0, width);
  field[0] = static_cast<char>(0x80);
  for (size_t i = width; i-- > 1 && value;) {
    field[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

void PutString(char* field, size_t width, std::string_view s) {
  std::memcpy(field, s.data(), std::min(width, s.size()));
}

// "len key=value\n", where len counts the whole record including itself.
std::string PaxRecord(std::string_view key, std::string_view value) {
  size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) ++len;
  return std::to_string(len) + " " + std::string(key) + "=" +
         std::string(value) + "\n";
}

// Splits a long name into ustar's prefix (155) and name (100) at a slash.
bool SplitUstarName(const std::string& name, std::string* prefix,
                    std::string* rest) {
  if (name.size() <= 100) {
    prefix->clear();
    *rest = name;
    return true;
  }
  for (size_t slash = name.find('/'); slash != std::string::npos;
       slash = name.find('/', slash + 1)) {
    if (slash <= 155 && name.size() - slash - 1 <= 100 && slash > 0) {
      *prefix = name.substr(0, slash);
      *rest = name.substr(slash + 1);
      return true;
    }
  }
  return false;
}

}  // namespace

TarBuilder& TarBuilder::File(std::string name, std::string data) {
  TarMember m;
  m.name = std::move(name);
  m.data = std::move(data);
  return Add(std::move(m));
}

TarBuilder& TarBuilder::Hole(std::string name, uint64_t size) {
  TarMember m;
  m.name = std::move(name);
  m.hole_size = size;
  return Add(std::move(m));
}

TarBuilder& TarBuilder::Directory(std::string name) {
  TarMember m;
  m.name = std::move(name);
  m.type = '5';
  m.mode = 0755;
  return Add(std::move(m));
}

TarBuilder& TarBuilder::Symlink(std::string name, std::string target) {
  TarMember m;
  m.name = std::move(name);
  m.type = '2';
  m.linkname = std::move(target);
  return Add(std::move(m));
}

TarBuilder& TarBuilder::Hardlink(std::string name, std::string target) {
  TarMember m;
  m.name = std::move(name);
  m.type = '1';
  m.linkname = std::move(target);
  return Add(std::move(m));
}

TarBuilder& TarBuilder::CharDevice(std::string name) {
  TarMember m;
  m.name = std::move(name);
  m.type = '3';
  return Add(std::move(m));
}

TarBuilder& TarBuilder::BlockDevice(std::string name) {
  TarMember m;
  m.name = std::move(name);
  m.type = '4';
  return Add(std::move(m));
}

TarBuilder& TarBuilder::Fifo(std::string name) {
  TarMember m;
  m.name = std::move(name);
  m.type = '6';
  return Add(std::move(m));
}

TarBuilder& TarBuilder::Add(TarMember member) {
  members_.push_back(std::move(member));
  return *this;
}

void TarBuilder::AppendMember(const TarMember& m,
                              std::vector<Piece>& out) const {
  const uint64_t size = m.declared_size.value_or(m.size());
  std::string header_name = m.name;
  std::string prefix;
  std::string link = m.linkname;
  bool big = size > kMaxOctalSize;

  auto header_block = [&](std::string_view name, std::string_view pfx,
                          char type, uint64_t sz, std::string_view lnk,
                          bool bad_sum) {
    std::string h(kBlock, '\0');
    char* b = h.data();
    PutString(b + 0, 100, name);
    PutOctal(b + 100, 8, m.mode);
    PutOctal(b + 108, 8, 0);
    PutOctal(b + 116, 8, 0);
    if (sz > kMaxOctalSize) {
      PutBase256(b + 124, 12, sz);
    } else {
      PutOctal(b + 124, 12, sz);
    }
    PutOctal(b + 136, 12, m.mtime);
    b[156] = type;
    PutString(b + 157, 100, lnk);
    if (format_ == TarFormat::kGnu) {
      std::memcpy(b + 257, "ustar  ", 8);  // magic + version, GNU style
    } else {
      std::memcpy(b + 257, "ustar", 6);
      std::memcpy(b + 263, "00", 2);
    }
    PutString(b + 265, 32, "root");
    PutString(b + 297, 32, "root");
    PutOctal(b + 329, 8, 0);
    PutOctal(b + 337, 8, 0);
    PutString(b + 345, 155, pfx);
    std::memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    if (bad_sum) sum += 1;
    PutOctal(b + 148, 7, sum);
    b[155] = ' ';
    return h;
  };
  auto data_piece = [&](std::string data) {
    data.append(Padding(data.size()), '\0');
    out.push_back({std::move(data), 0});
  };

  switch (format_) {
    case TarFormat::kUstar: {
      bool fits = SplitUstarName(m.name, &prefix, &header_name);
      REQUIRE_MESSAGE(fits, "name too long for ustar: " << m.name);
      REQUIRE_MESSAGE(!big, "size too large for ustar");
      REQUIRE_MESSAGE(link.size() <= 100, "link name too long for ustar");
      break;
    }
    case TarFormat::kPax: {
      std::string records;
      bool needs_path = !SplitUstarName(m.name, &prefix, &header_name);
      for (unsigned char c : m.name) needs_path |= c >= 0x80;
      if (needs_path) {
        records += PaxRecord("path", m.name);
        prefix.clear();
        header_name = m.name.substr(0, 100);
      }
      if (link.size() > 100) {
        records += PaxRecord("linkpath", link);
        link = link.substr(0, 100);
      }
      if (big) records += PaxRecord("size", std::to_string(size));
      for (const auto& [k, v] : m.pax_records) records += PaxRecord(k, v);
      if (!records.empty()) {
        std::string base = m.name.substr(m.name.rfind('/') + 1);
        std::string xname = "PaxHeaders/" + base.substr(0, 80);
        out.push_back(
            {header_block(xname, "", 'x', records.size(), "", false), 0});
        data_piece(records);
      }
      break;
    }
    case TarFormat::kGnu:
      if (link.size() > 100) {
        out.push_back(
            {header_block("././@LongLink", "", 'K', link.size() + 1, "", false),
             0});
        data_piece(link + '\0');
        link = link.substr(0, 100);
      }
      if (m.name.size() > 100) {
        out.push_back({header_block("././@LongLink", "", 'L', m.name.size() + 1,
                                    "", false),
                       0});
        data_piece(m.name + '\0');
        header_name = m.name.substr(0, 100);
      }
      break;
  }
  // A pax header carries the real size; the ustar field then holds 0.
  uint64_t field_size = (format_ == TarFormat::kPax && big) ? 0 : size;
  out.push_back({header_block(header_name, prefix, m.type, field_size, link,
                              m.bad_checksum),
                 0});
  if (m.hole_size) {
    out.push_back({"", m.hole_size + Padding(m.hole_size)});
  } else if (!m.data.empty()) {
    data_piece(m.data);
  }
}

std::vector<TarBuilder::Piece> TarBuilder::Pieces(
    std::vector<TarLayout>* layout) const {
  std::vector<Piece> out;
  uint64_t pos = 0;
  auto advance = [&](size_t from) {
    for (size_t i = from; i < out.size(); ++i) {
      pos += out[i].bytes.size() + out[i].zeros;
    }
  };
  for (const TarMember& m : members_) {
    size_t first = out.size();
    uint64_t header_offset = pos;
    AppendMember(m, out);
    // The data starts after the last header block of this member.
    bool has_data = m.hole_size || !m.data.empty();
    size_t data_pieces = has_data ? 1 : 0;
    uint64_t data_offset = header_offset;
    for (size_t i = first; i < out.size() - data_pieces; ++i) {
      data_offset += out[i].bytes.size() + out[i].zeros;
    }
    if (layout) {
      layout->push_back({m.name, header_offset, data_offset,
                         m.declared_size.value_or(m.size())});
    }
    advance(first);
  }
  std::string end(kBlock * static_cast<uint64_t>(end_blocks_), '\0');
  pos += end.size();
  if (record_size_ && pos % record_size_) {
    end.append(record_size_ - pos % record_size_, '\0');
  }
  out.push_back({std::move(end), 0});
  return out;
}

std::string TarBuilder::Build() const {
  std::string out;
  for (const Piece& p : Pieces(nullptr)) {
    REQUIRE_MESSAGE(p.zeros <= (uint64_t{256} << 20),
                    "hole too large for Build(); use WriteFile");
    out += p.bytes;
    out.append(p.zeros, '\0');
  }
  return out;
}

void TarBuilder::WriteFile(const std::string& path) const {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE_MESSAGE(fd >= 0, "cannot create " << path);
  uint64_t pos = 0;
  for (const Piece& p : Pieces(nullptr)) {
    if (!p.bytes.empty()) {
      ssize_t n =
          ::pwrite(fd, p.bytes.data(), p.bytes.size(), static_cast<off_t>(pos));
      REQUIRE(n == static_cast<ssize_t>(p.bytes.size()));
    }
    pos += p.bytes.size() + p.zeros;
  }
  int truncated = ::ftruncate(fd, static_cast<off_t>(pos));
  REQUIRE(truncated == 0);
  ::close(fd);
}

std::vector<TarLayout> TarBuilder::Layout() const {
  std::vector<TarLayout> layout;
  Pieces(&layout);
  return layout;
}

}  // namespace ova2virt::testing

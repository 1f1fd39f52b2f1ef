#include "tests/support/vmdk_builder.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "core/compress.h"

namespace ova2virt::testing {
namespace {

constexpr uint64_t kSector = 512;
constexpr uint64_t kGdAtEnd = ~uint64_t{0};

uint64_t Ceil(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t RoundUp(uint64_t a, uint64_t b) { return Ceil(a, b) * b; }

void Put32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}
void Put64(std::string& s, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

std::string SerializeHeader(const VmdkBuilder::Header& h) {
  std::string s(kSector, '\0');
  Put32(s, 0, h.magic);
  Put32(s, 4, h.version);
  Put32(s, 8, h.flags);
  Put64(s, 12, h.capacity);
  Put64(s, 20, h.grain_size);
  Put64(s, 28, h.descriptor_offset);
  Put64(s, 36, h.descriptor_size);
  Put32(s, 44, h.num_gtes_per_gt);
  Put64(s, 48, h.rgd_offset);
  Put64(s, 56, h.gd_offset);
  Put64(s, 64, h.overhead);
  s[72] = static_cast<char>(h.unclean_shutdown);
  std::memcpy(&s[73], h.newline_chars, 4);
  s[77] = static_cast<char>(h.compress_algorithm & 0xff);
  s[78] = static_cast<char>(h.compress_algorithm >> 8);
  return s;
}

std::string Marker(uint64_t val, uint32_t type) {
  std::string m(kSector, '\0');
  Put64(m, 0, val);
  Put32(m, 12, type);
  return m;
}

void PadTo(std::string& s, uint64_t bytes) {
  if (s.size() < bytes) s.resize(bytes, '\0');
}

bool AllZero(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

}  // namespace

std::string RealisticDiskImage(uint64_t capacity, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string disk(capacity, '\0');
  static const char* kWords[] = {
      "kernel", "boot",  "root",    "etc",    "passwd",    "lorem",  "ipsum",
      "disk",   "grain", "cluster", "sector", "appliance", "vmware", "qemu"};
  uint64_t pos = 0;
  while (pos < capacity) {
    uint64_t len = std::min<uint64_t>(capacity - pos,
                                      (1 + rng() % 6) * 16384 + rng() % 5000);
    switch (rng() % 6) {
      case 0:
      case 1:  // zeros: left as they are
        len = std::min<uint64_t>(capacity - pos, len * 3);
        break;
      case 2:  // incompressible
        for (uint64_t i = 0; i < len; ++i)
          disk[pos + i] = static_cast<char>(rng());
        break;
      case 3:
      case 4: {  // text
        std::string text;
        while (text.size() < len) {
          text += kWords[rng() % 14];
          text += (rng() % 8 == 0) ? "\n" : " ";
          if (rng() % 16 == 0) text += std::to_string(rng() % 100000);
        }
        std::memcpy(&disk[pos], text.data(), len);
        break;
      }
      default:  // mostly zeros, a few bytes set here and there
        for (int i = 0; i < 8; ++i) {
          disk[pos + rng() % len] = static_cast<char>(1 + rng() % 255);
        }
        break;
    }
    pos += len;
  }
  // Data at the very end of the disk.
  for (uint64_t i = capacity - std::min<uint64_t>(capacity, 700); i < capacity;
       ++i) {
    disk[i] = static_cast<char>(rng() | 1);
  }
  return disk;
}

VmdkBuilder::VmdkBuilder(Layout layout, std::string disk)
    : layout_(layout),
      capacity_bytes_(disk.size()),
      capacity_sectors_(Ceil(disk.size(), kSector)) {
  pieces_[0] = std::move(disk);
}

VmdkBuilder::VmdkBuilder(Layout layout, uint64_t capacity)
    : layout_(layout),
      capacity_bytes_(capacity),
      capacity_sectors_(Ceil(capacity, kSector)) {}

VmdkBuilder& VmdkBuilder::Write(uint64_t offset, std::string bytes) {
  pieces_[offset] = std::move(bytes);
  return *this;
}

VmdkBuilder& VmdkBuilder::GrainSectors(uint64_t sectors) {
  grain_sectors_ = sectors;
  return *this;
}
VmdkBuilder& VmdkBuilder::Order(std::vector<uint64_t> grains) {
  order_ = std::move(grains);
  return *this;
}
VmdkBuilder& VmdkBuilder::Shuffle(uint32_t seed) {
  std::vector<uint64_t> grains = DataGrains();
  std::mt19937 rng(seed);
  std::shuffle(grains.begin(), grains.end(), rng);
  order_ = std::move(grains);
  return *this;
}
VmdkBuilder& VmdkBuilder::CreateType(std::string create_type) {
  create_type_ = std::move(create_type);
  return *this;
}
VmdkBuilder& VmdkBuilder::DescriptorText(std::string text) {
  descriptor_text_ = std::move(text);
  return *this;
}
VmdkBuilder& VmdkBuilder::PatchHeader(std::function<void(Header&)> patch) {
  patch_ = std::move(patch);
  return *this;
}
VmdkBuilder& VmdkBuilder::AddRawGrain(uint64_t lba, std::string payload) {
  raw_grains_.emplace_back(lba, std::move(payload));
  return *this;
}
VmdkBuilder& VmdkBuilder::AddMarker(uint32_t type, uint64_t val) {
  markers_.emplace_back(type, val);
  return *this;
}
VmdkBuilder& VmdkBuilder::PatchGrainTableEntry(uint64_t grain,
                                               uint32_t sector) {
  gte_patches_[grain] = sector;
  return *this;
}
VmdkBuilder& VmdkBuilder::RawGrainsNotInTables() {
  raw_in_tables_ = false;
  return *this;
}

VmdkBuilder& VmdkBuilder::OmitEndOfStream() {
  omit_eos_ = true;
  return *this;
}
VmdkBuilder& VmdkBuilder::Truncate(uint64_t bytes) {
  truncate_ = bytes;
  return *this;
}

std::string VmdkBuilder::Grain(uint64_t grain) const {
  uint64_t gbytes = grain_sectors_ * kSector;
  uint64_t start = grain * gbytes;
  std::string out(gbytes, '\0');
  for (const auto& [off, bytes] : pieces_) {
    uint64_t end = off + bytes.size();
    if (end <= start || off >= start + gbytes) continue;
    uint64_t from = std::max(off, start);
    uint64_t to = std::min(end, start + gbytes);
    std::memcpy(&out[from - start], bytes.data() + (from - off), to - from);
  }
  return out;
}

std::vector<uint64_t> VmdkBuilder::DataGrains() const {
  uint64_t gbytes = grain_sectors_ * kSector;
  std::set<uint64_t> candidates;
  for (const auto& [off, bytes] : pieces_) {
    if (bytes.empty()) continue;
    for (uint64_t g = off / gbytes; g <= (off + bytes.size() - 1) / gbytes;
         ++g) {
      candidates.insert(g);
    }
  }
  std::vector<uint64_t> out;
  for (uint64_t g : candidates) {
    if (!AllZero(Grain(g))) out.push_back(g);
  }
  return out;
}

std::vector<uint64_t> VmdkBuilder::GrainOrder() const {
  return order_ ? *order_ : DataGrains();
}

std::string VmdkBuilder::CompressGrain(uint64_t grain) const {
  std::string raw = Grain(grain);
  Deflater d(6);
  std::string out(d.Bound(raw.size()), '\0');
  auto n = d.Zlib({reinterpret_cast<const uint8_t*>(raw.data()), raw.size()},
                  {reinterpret_cast<uint8_t*>(out.data()), out.size()});
  out.resize(n.ok() ? *n : 0);
  return out;
}

std::string VmdkBuilder::Descriptor() const {
  if (descriptor_text_) return *descriptor_text_;
  std::string type = create_type_;
  if (type.empty()) {
    type = layout_ == Layout::kMonolithicSparse ? "monolithicSparse"
                                                : "streamOptimized";
  }
  std::string access = layout_ == Layout::kVmwareStream ? "RDONLY" : "RW";
  return "# Disk DescriptorFile\nversion=1\nCID=1234abcd\n"
         "parentCID=ffffffff\ncreateType=\"" +
         type + "\"\n\n# Extent description\n" + access + " " +
         std::to_string(capacity_sectors_) +
         " SPARSE \"test.vmdk\"\n\n# The Disk Data Base\n#DDB\n\n"
         "ddb.virtualHWVersion = \"4\"\nddb.adapterType = \"lsilogic\"\n";
}

std::string VmdkBuilder::Build() const {
  std::string out =
      layout_ == Layout::kMonolithicSparse ? BuildSparse() : BuildStream();
  if (truncate_ && *truncate_ < out.size()) out.resize(*truncate_);
  return out;
}

std::string VmdkBuilder::BuildStream() const {
  const bool vmware = layout_ == Layout::kVmwareStream;
  const uint64_t grains = Ceil(capacity_sectors_, grain_sectors_);
  const uint64_t tables = Ceil(grains, 512);
  const uint64_t gd_sectors = Ceil(tables * 4, kSector);
  const std::string desc = Descriptor();

  Header h;
  h.capacity = capacity_sectors_;
  h.grain_size = grain_sectors_;
  if (vmware) {
    h.descriptor_size = Ceil(desc.size(), kSector);
    h.gd_offset = kGdAtEnd;
    h.overhead = RoundUp(1 + h.descriptor_size, 128);
  } else {
    // qemu-img: a 20-sector descriptor, then the directory and all tables.
    h.descriptor_size = std::max<uint64_t>(20, Ceil(desc.size(), kSector));
    h.gd_offset = 1 + h.descriptor_size;
    h.overhead = RoundUp(h.gd_offset + gd_sectors + tables * 4, 128);
  }
  std::string out = SerializeHeader(h);  // patched below
  out += desc;
  PadTo(out, h.overhead * kSector);

  std::vector<uint32_t> gte(tables * 512, 0);
  std::vector<uint32_t> gd(tables, 0);
  std::vector<uint64_t> order = GrainOrder();
  const bool in_order = std::is_sorted(order.begin(), order.end());
  uint64_t open_table = ~uint64_t{0};
  auto write_table = [&](uint64_t t) {
    out += Marker(4, 1);
    gd[t] = static_cast<uint32_t>(out.size() / kSector);
    std::string table(2048, '\0');
    for (int i = 0; i < 512; ++i) Put32(table, i * 4, gte[t * 512 + i]);
    out += table;
  };
  auto write_grain = [&](uint64_t lba, const std::string& payload) {
    std::string m(12, '\0');
    Put64(m, 0, lba);
    Put32(m, 8, static_cast<uint32_t>(payload.size()));
    out += m + payload;
    PadTo(out, RoundUp(out.size(), kSector));
  };
  for (uint64_t g : order) {
    if (vmware && in_order && g / 512 != open_table) {
      if (open_table != ~uint64_t{0}) write_table(open_table);
      open_table = g / 512;
    }
    gte[g] = static_cast<uint32_t>(out.size() / kSector);
    write_grain(g * grain_sectors_, CompressGrain(g));
  }
  for (const auto& [lba, payload] : raw_grains_) {
    // Listed in the tables, as a producer would, when it can be.
    uint64_t g = lba / grain_sectors_;
    if (raw_in_tables_ && lba % grain_sectors_ == 0 && g < gte.size()) {
      gte[g] = static_cast<uint32_t>(out.size() / kSector);
    }
    write_grain(lba, payload);
  }
  for (const auto& [type, val] : markers_) {
    out += Marker(val, type);
    PadTo(out, out.size() + val * kSector);
  }
  Header final_header = h;
  if (vmware) {
    if (in_order) {
      if (open_table != ~uint64_t{0}) write_table(open_table);
    } else {
      std::set<uint64_t> used;
      for (uint64_t g : order) used.insert(g / 512);
      for (uint64_t t : used) write_table(t);
    }
    out += Marker(gd_sectors, 2);
    final_header.gd_offset = out.size() / kSector;
    std::string dir(gd_sectors * kSector, '\0');
    for (uint64_t t = 0; t < tables; ++t) Put32(dir, t * 4, gd[t]);
    out += dir;
    out += Marker(1, 3);
    Header footer = final_header;
    if (patch_) patch_(footer);
    out += SerializeHeader(footer);
  } else {
    // Tables at the front, every one present, as qemu-img writes them.
    for (uint64_t t = 0; t < tables; ++t) {
      uint64_t at = (h.gd_offset + gd_sectors + t * 4) * kSector;
      Put32(out, h.gd_offset * kSector + t * 4,
            static_cast<uint32_t>(at / kSector));
      for (int i = 0; i < 512; ++i) Put32(out, at + i * 4, gte[t * 512 + i]);
    }
  }
  // qemu-img writes no end-of-stream marker: the file ends after the last
  // grain (sometimes padded with zeros to a whole cluster).
  if (vmware && !omit_eos_) out += Marker(0, 0);
  Header first = h;
  if (patch_) patch_(first);
  std::string hs = SerializeHeader(first);
  std::memcpy(out.data(), hs.data(), hs.size());
  return out;
}

std::string VmdkBuilder::BuildSparse() const {
  const uint64_t grains = Ceil(capacity_sectors_, grain_sectors_);
  const uint64_t tables = Ceil(grains, 512);
  const uint64_t gd_sectors = Ceil(tables * 4, kSector);
  const std::string desc = Descriptor();

  Header h;
  h.version = 1;
  h.flags = 0x3;  // newline detection, redundant directory
  h.capacity = capacity_sectors_;
  h.grain_size = grain_sectors_;
  h.descriptor_size = std::max<uint64_t>(20, Ceil(desc.size(), kSector));
  h.rgd_offset = 1 + h.descriptor_size;
  h.gd_offset = h.rgd_offset + gd_sectors + tables * 4;
  h.overhead = RoundUp(h.gd_offset + gd_sectors + tables * 4, grain_sectors_);
  h.compress_algorithm = 0;

  std::string out = SerializeHeader(h);
  out += desc;
  PadTo(out, h.overhead * kSector);
  std::vector<uint32_t> gte(tables * 512, 0);
  for (uint64_t g : GrainOrder()) {
    gte[g] = static_cast<uint32_t>(out.size() / kSector);
    out += Grain(g);
  }
  for (const auto& [g, sector] : gte_patches_) gte.at(g) = sector;
  for (uint64_t dir : {h.rgd_offset, h.gd_offset}) {
    for (uint64_t t = 0; t < tables; ++t) {
      uint64_t at = (dir + gd_sectors + t * 4) * kSector;
      Put32(out, dir * kSector + t * 4, static_cast<uint32_t>(at / kSector));
      for (int i = 0; i < 512; ++i) Put32(out, at + i * 4, gte[t * 512 + i]);
    }
  }
  Header first = h;
  if (patch_) patch_(first);
  std::string hs = SerializeHeader(first);
  std::memcpy(out.data(), hs.data(), hs.size());
  return out;
}

}  // namespace ova2virt::testing

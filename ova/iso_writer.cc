#include "ova/iso_writer.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>

namespace ova2virt {
namespace {

struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

// Where the volume descriptors live: sector 16 on (ECMA-119 8.1).
constexpr size_t kSector = 2048;
constexpr size_t kFirstDescriptor = 16;
// The descriptors libarchive writes (primary, Joliet, terminator) fit here.
constexpr size_t kHeldBytes = (kFirstDescriptor + 8) * kSector;

// Receives the image from libarchive. The start of it is held back until
// the volume descriptors have passed, so their volume identifiers can be
// set to the label as given: libarchive maps a space to '_' (ISO 9660
// d-characters), while the OVF environment CD is labelled "OVF ENV", with a
// space, as vSphere writes it.
struct Client {
  ByteSink* out;
  std::string label;
  std::string held;
  bool flushed = false;
  Status status;

  Status Flush() {
    if (flushed) return OkStatus();
    flushed = true;
    for (size_t sector = kFirstDescriptor;
         (sector + 1) * kSector <= held.size(); ++sector) {
      char* d = held.data() + sector * kSector;
      if (std::string_view(d + 1, 5) != "CD001") break;
      const unsigned char type = static_cast<unsigned char>(d[0]);
      if (type == 255) break;  // the set terminator
      char* id = d + 40;       // volume identifier, 32 bytes
      if (type == 1) {
        std::string v = label;
        v.resize(32, ' ');
        std::memcpy(id, v.data(), 32);
      } else if (type == 2 && d[88] == '%' && d[89] == '/') {
        // Joliet: UCS-2, big-endian, 16 characters.
        for (size_t i = 0; i < 16; ++i) {
          id[2 * i] = 0;
          id[2 * i + 1] = i < label.size() ? label[i] : ' ';
        }
      }
    }
    Status s = out->Write(AsBytes(held));
    held.clear();
    return s;
  }

  Status Write(std::span<const uint8_t> data) {
    if (flushed) return out->Write(data);
    held.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (held.size() >= kHeldBytes) return Flush();
    return OkStatus();
  }
};

la_ssize_t WriteCallback(struct archive* a, void* data, const void* buffer,
                         size_t length) {
  auto* client = static_cast<Client*>(data);
  Status s = client->Write({static_cast<const uint8_t*>(buffer), length});
  if (!s.ok()) {
    client->status = s;
    archive_set_error(a, EIO, "%s", s.message().c_str());
    return -1;
  }
  return static_cast<la_ssize_t>(length);
}

Status CheckName(const std::string& name, std::set<std::string>& seen) {
  auto bad = [&](const char* why) {
    return UsageError("iso file " + Quote(name) + ": " + why);
  };
  if (name.empty() || name == "." || name == "..")
    return bad("not a file name");
  if (name.size() > 255) return bad("name longer than 255 bytes");
  for (unsigned char c : name) {
    if (c == '/' || c == '\\') return bad("name holds a directory separator");
    if (c < 0x20 || c == 0x7f) return bad("name contains control characters");
  }
  if (!seen.insert(name).second) return bad("written already");
  return OkStatus();
}

}  // namespace

Status WriteIso9660(const std::vector<IsoFile>& files,
                    std::string_view volume_label, ByteSink& out) {
  if (volume_label.size() > 32) {
    return UsageError("iso volume label " + Quote(volume_label) +
                      " is longer than 32 characters");
  }
  for (unsigned char c : volume_label) {
    if (c < 0x20 || c > 0x7e) {
      return UsageError("iso volume label " + Quote(volume_label) +
                        " holds a character other than printable ascii");
    }
  }
  std::set<std::string> seen;
  for (const IsoFile& f : files) RETURN_IF_ERROR(CheckName(f.name, seen));

  std::unique_ptr<struct archive, ArchiveWriteFree> a(archive_write_new());
  if (!a) return FailedError("out of memory");
  Client client;
  client.out = &out;
  client.label = std::string(volume_label);
  auto fail = [&](const char* doing) {
    if (!client.status.ok()) return client.status;
    const char* why = archive_error_string(a.get());
    return FailedError(std::string("iso9660: ") + doing + ": " +
                       (why ? why : "unknown error"));
  };
  const std::string label(volume_label);
  if (archive_write_set_format_iso9660(a.get()) != ARCHIVE_OK ||
      archive_write_set_format_option(a.get(), "iso9660", "volume-id",
                                      label.c_str()) != ARCHIVE_OK ||
      archive_write_set_format_option(a.get(), "iso9660", "rockridge",
                                      "useful") != ARCHIVE_OK ||
      archive_write_set_format_option(a.get(), "iso9660", "joliet", "1") !=
          ARCHIVE_OK) {
    return fail("setting up");
  }
  // Whole 2 KiB sectors, no padding to tape-style blocks.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &client, nullptr, &WriteCallback, nullptr) !=
      ARCHIVE_OK) {
    return fail("opening");
  }
  for (const IsoFile& f : files) {
    std::unique_ptr<struct archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), f.name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0444);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(f.data.size()));
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      return fail("writing a header");
    }
    if (!f.data.empty() &&
        archive_write_data(a.get(), f.data.data(), f.data.size()) !=
            static_cast<la_ssize_t>(f.data.size())) {
      return fail("writing data");
    }
  }
  // The image is laid out and written when the archive closes.
  if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("closing");
  RETURN_IF_ERROR(client.Flush());
  return out.Close();
}

}  // namespace ova2virt

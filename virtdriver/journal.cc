#include "virtdriver/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <random>

#include "core/crypto.h"

namespace ova2virt {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "ova2virt-journal 1";
constexpr std::string_view kPrefix = "import-";
constexpr std::string_view kSuffix = ".journal";
constexpr std::string_view kTmpSuffix = ".journal.tmp";
// A journal lists a few entries per disk; nothing real comes near this.
constexpr size_t kMaxJournalBytes = 1 << 20;

std::string Encode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c <= ' ' || c > '~' || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? "%" : out;  // a lone '%' stands for ""
}

std::optional<std::string> Decode(std::string_view s) {
  if (s == "%") return std::string();
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= s.size()) return std::nullopt;
    auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= line.size()) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

std::string NewId() {
  char when[32];
  std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  char rnd[16];
  std::snprintf(rnd, sizeof rnd, "%06x", rd() & 0xffffff);
  return std::string(when) + "-" + std::to_string(getpid()) + "-" + rnd;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(dir, errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  return rc == 0 ? OkStatus() : ErrnoError(dir, e);
}

bool EndsWith(std::string_view s, std::string_view end) {
  return s.size() >= end.size() && s.substr(s.size() - end.size()) == end;
}

}  // namespace

std::string_view JournalKindName(JournalEntry::Kind kind) {
  switch (kind) {
    case JournalEntry::Kind::kVolume:
      return "volume";
    case JournalEntry::Kind::kFile:
      return "file";
    case JournalEntry::Kind::kTemp:
      return "temp";
    case JournalEntry::Kind::kDomain:
      return "domain";
  }
  return "file";
}

std::string DefaultJournalDir() {
  if (const char* dir = std::getenv("OVA2VIRT_STATE_DIR"); dir && *dir) {
    return std::string(dir) + "/journal";
  }
  if (geteuid() == 0) return "/var/lib/ova2virt/journal";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/') {
    return std::string(xdg) + "/ova2virt/journal";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") +
         "/.local/state/ova2virt/journal";
}

Result<std::unique_ptr<JournalWriter>> JournalWriter::Create(
    const std::string& dir, const std::string& uri) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return ErrnoError(dir, ec.value());
    ::chmod(dir.c_str(), 0700);  // journals name the host's files
  }
  std::unique_ptr<JournalWriter> j(new JournalWriter());
  j->id_ = NewId();
  std::string name = std::string(kPrefix) + j->id_;
  std::string tmp = dir + "/." + name + std::string(kTmpSuffix);
  j->path_ = dir + "/" + name + std::string(kSuffix);
  ASSIGN_OR_RETURN(j->file_, File::CreateExclusive(tmp, 0600));
  auto fail = [&](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  if (::flock(j->file_.fd(), LOCK_EX | LOCK_NB) != 0) {
    return fail(ErrnoError(tmp, errno));
  }
  std::string head = std::string(kMagic) + "\nid " + Encode(j->id_) + "\npid " +
                     std::to_string(getpid()) + "\nstarted " +
                     FormatUtcTime(std::time(nullptr)) + "\nuri " +
                     Encode(uri) + "\n";
  Status s = j->file_.WriteAll(AsBytes(head));
  if (s.ok()) s = j->file_.Sync();
  if (!s.ok()) return fail(s);
  if (::rename(tmp.c_str(), j->path_.c_str()) != 0) {
    return fail(ErrnoError(j->path_, errno));
  }
  SyncDirectory(dir).IgnoreError();  // best effort: the entries are synced
  return j;
}

JournalWriter::~JournalWriter() { file_.Close().IgnoreError(); }

Status JournalWriter::Add(const JournalEntry& entry) {
  if (removed_) return FailedError(path_ + ": journal already removed");
  std::string line =
      std::string(JournalKindName(entry.kind)) + " " + Encode(entry.a);
  if (entry.kind == JournalEntry::Kind::kVolume) line += " " + Encode(entry.b);
  line += "\n";
  RETURN_IF_ERROR(file_.WriteAll(AsBytes(line)));
  return file_.Sync();
}

Status JournalWriter::MarkCommitted() {
  if (removed_) return OkStatus();
  RETURN_IF_ERROR(file_.WriteAll(AsBytes(std::string("committed\n"))));
  return file_.Sync();
}

Status JournalWriter::Remove() {
  if (removed_) return OkStatus();
  // Unlinked before the lock goes (at close): a cleaner that gets the lock
  // afterwards sees a removed file and leaves it alone.
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(path_, errno);
  }
  removed_ = true;
  return OkStatus();
}

Result<Journal> ParseJournal(std::string_view text) {
  if (text.size() > kMaxJournalBytes) {
    return CorruptError("journal of " + std::to_string(text.size()) + " bytes");
  }
  Journal j;
  size_t pos = 0;
  int line_no = 0;
  bool magic = false;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) break;  // cut short by a crash
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    auto bad = [&] {
      return CorruptError("journal line " + std::to_string(line_no) + ": " +
                          Quote(line));
    };
    if (!magic) {
      if (line != kMagic) return CorruptError("not an ova2virt journal");
      magic = true;
      continue;
    }
    std::vector<std::string_view> f = Fields(line);
    std::vector<std::string> v;
    for (size_t i = 1; i < f.size(); ++i) {
      auto d = Decode(f[i]);
      if (!d) return bad();
      v.push_back(std::move(*d));
    }
    std::string_view key = f[0];
    if (v.empty() && key == "committed") {
      j.committed = true;
    } else if (v.size() == 1 && key == "id") {
      j.id = v[0];
    } else if (v.size() == 1 && key == "pid") {
      auto r = std::from_chars(v[0].data(), v[0].data() + v[0].size(), j.pid);
      if (r.ec != std::errc()) return bad();
    } else if (v.size() == 1 && key == "started") {
      j.started = v[0];
    } else if (v.size() == 1 && key == "uri") {
      j.uri = v[0];
    } else if (v.size() == 2 && key == "volume") {
      j.entries.push_back({JournalEntry::Kind::kVolume, v[0], v[1]});
    } else if (v.size() == 1 && key == "file") {
      j.entries.push_back({JournalEntry::Kind::kFile, v[0], ""});
    } else if (v.size() == 1 && key == "temp") {
      j.entries.push_back({JournalEntry::Kind::kTemp, v[0], ""});
    } else if (v.size() == 1 && key == "domain") {
      j.entries.push_back({JournalEntry::Kind::kDomain, v[0], ""});
    } else {
      return bad();
    }
  }
  if (!magic) return CorruptError("not an ova2virt journal");
  return j;
}

Status StaleJournal::Remove() {
  if (::unlink(journal_.path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(journal_.path, errno);
  }
  return OkStatus();
}

Result<std::vector<StaleJournal>> LockStaleJournals(
    const std::string& dir, std::vector<std::string>* busy) {
  std::vector<StaleJournal> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  if (ec) return ErrnoError(dir, ec.value());
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    bool tmp = name.rfind("." + std::string(kPrefix), 0) == 0 &&
               EndsWith(name, kTmpSuffix);
    bool journal = name.rfind(kPrefix, 0) == 0 && EndsWith(name, kSuffix);
    if (!tmp && !journal) continue;
    auto file = File::OpenRead(path);
    if (!file.ok()) {
      if (file.status().code() == ErrorCode::kNotFound) continue;  // gone
      return file.status();
    }
    if (::flock(file->fd(), LOCK_EX | LOCK_NB) != 0) {
      if (busy && journal) busy->push_back(path);
      continue;
    }
    // Removed by its owner between our open and the lock: a finished
    // import, not a dead one.
    struct stat st;
    if (::fstat(file->fd(), &st) != 0 || st.st_nlink == 0) continue;
    if (tmp) {
      ::unlink(path.c_str());  // killed before it could list anything
      continue;
    }
    StaleJournal s;
    auto size = file->Size();
    std::string text;
    if (size.ok() && *size <= kMaxJournalBytes) {
      text.resize(*size);
      auto n = file->ReadAt(
          0, {reinterpret_cast<uint8_t*>(text.data()), text.size()});
      text.resize(n.ok() ? *n : 0);
    }
    auto parsed = ParseJournal(text);
    if (parsed.ok()) {
      s.journal_ = std::move(*parsed);
    } else {
      s.journal_.problem = parsed.status().message();
    }
    s.journal_.path = path;
    if (s.journal_.id.empty()) {
      s.journal_.id = name.substr(
          kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
    }
    s.file_ = std::move(file).value();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ova2virt

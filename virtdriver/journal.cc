#include "virtdriver/journal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>

#include "core/crypto.h"
#include "core/digest.h"

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

// The pid in a journal's name ("import-20261122T060102Z-4242-5f3a9c..."),
// or 0.
int64_t PidOfTmpName(std::string_view name) {
  size_t first = name.find('-');
  if (first == std::string_view::npos) return 0;
  size_t start = name.find('-', first + 1);
  if (start == std::string_view::npos) return 0;
  ++start;
  size_t end = name.find('-', start);
  if (end == std::string_view::npos) return 0;
  int64_t pid = 0;
  auto r = std::from_chars(name.data() + start, name.data() + end, pid);
  if (r.ec != std::errc() || r.ptr != name.data() + end) return 0;
  return pid;
}

// A journal's text ("" when unreadable or too big to be one).
std::string ReadAll(File& file) {
  auto size = file.Size();
  std::string text;
  if (size.ok() && *size <= kMaxJournalBytes) {
    text.resize(*size);
    auto n =
        file.ReadAt(0, {reinterpret_cast<uint8_t*>(text.data()), text.size()});
    text.resize(n.ok() ? *n : 0);
  }
  return text;
}

Status MakeJournalDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return ErrnoError(dir, ec.value());
    ::chmod(dir.c_str(), 0700);  // journals name the host's files
  }
  return OkStatus();
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
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
  RETURN_IF_ERROR(MakeJournalDir(dir));
  std::unique_ptr<JournalWriter> j(new JournalWriter());
  j->id_ = NewId();
  std::string name = std::string(kPrefix) + j->id_;
  j->path_ = dir + "/" + name + std::string(kSuffix);
  std::string head = std::string(kMagic) + "\nid " + Encode(j->id_) + "\npid " +
                     std::to_string(getpid()) + "\nstarted " +
                     FormatUtcTime(std::time(nullptr)) + "\nuri " +
                     Encode(uri) + "\n";
  // The journal is written and locked while it has no name, then linked
  // under its final one: no other process ever sees it unlocked (another
  // import's LockStaleJournals would take an unlocked journal for a dead
  // one and delete it).
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) {
    j->file_ = File(fd, j->path_);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return ErrnoError(dir, errno);
    RETURN_IF_ERROR(j->file_.WriteAll(AsBytes(head)));
    RETURN_IF_ERROR(j->file_.Sync());
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, j->path_.c_str(),
                 AT_SYMLINK_FOLLOW) == 0) {
      SyncDirectory(dir).IgnoreError();  // best effort: the entries are synced
      return j;
    }
    if (errno != ENOENT) return ErrnoError(j->path_, errno);
    j->file_.Close().IgnoreError();  // no /proc: the fallback below
  } else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    return ErrnoError(dir, errno);
  }
  // Fallback (a file system without O_TMPFILE, no /proc): a dot-name,
  // locked right after it is made and renamed once written. The dot-name
  // carries our pid, and LockStaleJournals deletes an unlocked dot-file only
  // when that process is gone, so the moment between create and lock is
  // safe too.
  std::string tmp = dir + "/." + name + std::string(kTmpSuffix);
  ASSIGN_OR_RETURN(j->file_, File::CreateExclusive(tmp, 0600));
  auto fail = [&](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  if (::flock(j->file_.fd(), LOCK_EX | LOCK_NB) != 0) {
    return fail(ErrnoError(tmp, errno));
  }
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

Result<File> LockConnectionCleanup(const std::string& dir,
                                   const std::string& uri) {
  RETURN_IF_ERROR(MakeJournalDir(dir));
  std::string path =
      dir + "/.cleanup-" +
      DigestHex(DigestAlgorithm::kSha256, AsBytes(uri)).substr(0, 16) + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(path, errno);
  File file(fd, path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoError(path, errno);
  }
  return file;
}

Result<std::vector<StaleJournal>> LockStaleJournals(
    const std::string& dir, std::vector<std::string>* busy,
    const std::optional<std::string>& only_uri) {
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
    if (only_uri && journal) {
      // Another connection's journal is not even locked. (Its head is
      // complete: it is synced before the journal gets its name.)
      auto head = ParseJournal(ReadAll(*file));
      if (head.ok() && head->uri != *only_uri) continue;
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
      // Killed before it could list anything -- unless its process lives:
      // then it is being made and not locked yet.
      if (!ProcessAlive(PidOfTmpName(name))) ::unlink(path.c_str());
      continue;
    }
    StaleJournal s;
    auto parsed = ParseJournal(ReadAll(*file));
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

#include "tests/support/test_util.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ova2virt::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl =
      std::string(base && *base ? base : "/tmp") + "/ova2virt-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) FAIL("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::Join(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

std::vector<std::string> TempDir::List() const {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path_)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string CorpusPath(std::string_view relative) {
  std::string dir = OVA2VIRT_CORPUS_DIR;
  if (const char* env = getenv("OVA2VIRT_CORPUS_DIR"); env && *env) dir = env;
  REQUIRE_MESSAGE(!dir.empty(), "corpus not found: set OVA2VIRT_CORPUS_DIR");
  return dir + "/" + std::string(relative);
}

std::vector<std::string> CorpusFiles(std::string_view folder) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(CorpusPath(folder))) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  REQUIRE_MESSAGE(!files.empty(), "empty corpus folder " << folder);
  return files;
}

std::string SourcePath(std::string_view relative) {
  return std::string(OVA2VIRT_SOURCE_DIR) + "/" + std::string(relative);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, std::string_view data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

bool RegeneratingGoldens() {
  const char* regen = getenv("OVA2VIRT_REGENERATE");
  return regen && std::string(regen) == "1";
}

std::string GoldenDifference(const std::string& golden_path,
                             const std::string& actual) {
  std::string path = SourcePath(golden_path);
  if (!fs::exists(path)) {
    return "golden file missing: " + golden_path +
           " (run with OVA2VIRT_REGENERATE=1, then review the diff)";
  }
  std::string expected = ReadFileOrDie(path);
  if (expected == actual) return "";
  // The first differing line, to make the failure readable.
  std::istringstream e(expected), a(actual);
  std::string el, al;
  for (int line = 1;; ++line) {
    bool he = static_cast<bool>(std::getline(e, el));
    bool ha = static_cast<bool>(std::getline(a, al));
    if (!he && !ha) break;
    if (he != ha || el != al) {
      return golden_path + ":" + std::to_string(line) + ": expected [" +
             (he ? el : "<end of golden>") + "] got [" +
             (ha ? al : "<end of output>") +
             "] (OVA2VIRT_REGENERATE=1 rewrites the golden)";
    }
  }
  // Only a final newline differs.
  return golden_path + ": differs in its final newline";
}

bool MatchesGolden(const std::string& golden_path, const std::string& actual) {
  if (RegeneratingGoldens()) {
    WriteFileOrDie(SourcePath(golden_path), actual);
    return true;
  }
  std::string why = GoldenDifference(golden_path, actual);
  if (why.empty()) return true;
  FAIL_CHECK(why);
  return false;
}

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

bool HaveTool(const std::string& tool) {
  return RunCommand("command -v " + ShellQuote(tool) + " >/dev/null 2>&1")
             .exit_code == 0;
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += "'";
  return out;
}

long PeakRssOfChild(const std::function<bool()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body() ? 0 : 1);
  if (pid < 0) return -1;
  int status = 0;
  struct rusage usage = {};
  if (wait4(pid, &status, 0, &usage) != pid) return -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return usage.ru_maxrss;
}

}  // namespace ova2virt::testing

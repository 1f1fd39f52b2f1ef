// Helpers for tests: temporary directories, corpus paths, golden files.
#ifndef OVA2VIRT_TESTS_SUPPORT_TEST_UTIL_H_
#define OVA2VIRT_TESTS_SUPPORT_TEST_UTIL_H_

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace ova2virt::testing {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(std::string_view name) const;
  // Names of the entries in the directory (not recursive), sorted.
  std::vector<std::string> List() const;

 private:
  std::string path_;
};

// The shared corpus ("../shared/corpus"); a test fails if it is missing.
std::string CorpusPath(std::string_view relative);
// Every regular file in a corpus folder, sorted by name.
std::vector<std::string> CorpusFiles(std::string_view folder);
// A path in the project's source tree.
std::string SourcePath(std::string_view relative);

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, std::string_view data);

// True when OVA2VIRT_REGENERATE=1 is in the environment: golden files are
// rewritten from what the code makes, not compared.
bool RegeneratingGoldens();
// Compares `actual` with the golden file at `golden_path` (source-relative):
// "" when equal, else a one-line reason naming the golden, the first
// differing line number, and both versions of that line.
std::string GoldenDifference(const std::string& golden_path,
                             const std::string& actual);
// CHECKs that `actual` matches the golden (failing with GoldenDifference's
// reason); when regenerating, writes the file instead. Returns true when
// they match (or after regenerating).
bool MatchesGolden(const std::string& golden_path, const std::string& actual);

// Runs a shell command, returning its exit status and capturing stdout.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};
CommandResult RunCommand(const std::string& command);
// True if `tool` is on PATH.
bool HaveTool(const std::string& tool);
// Single-quotes a string for /bin/sh.
std::string ShellQuote(std::string_view s);

// Runs `body` in a forked child; returns the child's peak RSS in KiB (what
// getrusage() reports to the parent), or -1 if `body` returned false or the
// child did not exit. The child starts with the parent's pages: compare
// two children, or subtract an idle child's figure.
long PeakRssOfChild(const std::function<bool()>& body);

}  // namespace ova2virt::testing

// CHECK that a Status/Result is ok, printing its message if not.
#define CHECK_OK(expr)                                      \
  do {                                                      \
    const auto& ova2virt_check_ = (expr);                   \
    INFO(::ova2virt::testing::StatusText(ova2virt_check_)); \
    CHECK(ova2virt_check_.ok());                            \
  } while (0)
#define REQUIRE_OK(expr)                                    \
  do {                                                      \
    const auto& ova2virt_check_ = (expr);                   \
    INFO(::ova2virt::testing::StatusText(ova2virt_check_)); \
    REQUIRE(ova2virt_check_.ok());                          \
  } while (0)

namespace ova2virt::testing {
inline std::string StatusText(const Status& s) { return s.ToString(); }
template <typename T>
std::string StatusText(const Result<T>& r) {
  return r.status().ToString();
}
}  // namespace ova2virt::testing

#endif  // OVA2VIRT_TESTS_SUPPORT_TEST_UTIL_H_

// Member data offsets, checked against Python's tarfile (offset_data) as an
// independent referee, and against the TarBuilder's own layout: ustar, pax
// (long names, sizes over 8 GiB), GNU (long names, base-256 sizes), gzip,
// and every OVA in the corpus.
#include <sstream>

#include "ova/package_reader.h"
#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

using testing::TarBuilder;
using testing::TarFormat;
using testing::TempDir;

struct Entry {
  std::string name;
  uint64_t offset;
  uint64_t size;
  bool operator==(const Entry&) const = default;
};

// One line per member, for comparisons that print well when they fail.
std::string Show(const std::vector<Entry>& entries) {
  std::string out;
  for (const Entry& e : entries) {
    out += Quote(e.name) + " @" + std::to_string(e.offset) + " +" +
           std::to_string(e.size) + "\n";
  }
  return out;
}

// Python's view: regular members with their offset_data. nullopt when
// Python cannot read the file.
std::optional<std::vector<Entry>> PythonMembers(const TempDir& tmp,
                                                const std::string& path) {
  REQUIRE(testing::HaveTool("python3"));
  const std::string script = tmp.Join("offsets.py");
  testing::WriteFileOrDie(script, R"(import sys, tarfile
try:
    with tarfile.open(sys.argv[1], 'r:*') as t:
        for m in t:
            if m.isreg():
                name = m.name.encode('utf-8', 'surrogateescape').hex()
                print(name, m.offset_data, m.size)
except (tarfile.TarError, EOFError) as e:
    print('ERROR', e)
)");
  testing::CommandResult r =
      testing::RunCommand("python3 " + testing::ShellQuote(script) + " " +
                          testing::ShellQuote(path));
  REQUIRE(r.exit_code == 0);
  if (r.out.rfind("ERROR", 0) == 0) return std::nullopt;
  std::vector<Entry> out;
  std::istringstream in(r.out);
  std::string hex;
  uint64_t offset, size;
  while (in >> hex >> offset >> size) {
    auto bytes = FromHex(hex);
    REQUIRE(bytes.has_value());
    out.push_back({std::string(bytes->begin(), bytes->end()), offset, size});
  }
  return out;
}

// Ours: every member, listing only (no hashing: big members are skipped by
// seeking).
Result<std::vector<Entry>> OurMembers(const std::string& path) {
  PackageReader::Options options;
  options.hash = false;
  ASSIGN_OR_RETURN(auto reader, PackageReader::Open(path, options));
  std::vector<Entry> out;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<MemberInfo> m, reader->Next());
    if (!m) return out;
    out.push_back({m->name, m->offset, m->size});
  }
}

std::vector<Entry> BuilderMembers(const TarBuilder& tar) {
  std::vector<Entry> out;
  for (const auto& l : tar.Layout())
    out.push_back({l.name, l.data_offset, l.size});
  return out;
}

void CheckAgainstPython(const TempDir& tmp, const TarBuilder& tar,
                        const std::string& path) {
  auto python = PythonMembers(tmp, path);
  REQUIRE(python.has_value());
  auto ours = OurMembers(path);
  REQUIRE_OK(ours);
  CHECK(Show(*ours) == Show(*python));
  CHECK(Show(*ours) == Show(BuilderMembers(tar)));
}

const uint64_t kOver8GiB = (uint64_t{8} << 30) + 4097;

TEST_CASE("offsets: ustar members, prefix-split names, empty files") {
  TempDir tmp;
  TarBuilder tar(TarFormat::kUstar);
  tar.File("app.ovf", "<Envelope/>")
      .File(std::string(90, 'p') + "/" + std::string(90, 'n') + ".vmdk",
            std::string(3000, 'x'))
      .File("empty.txt", "")
      .File("d\xC3\xAFsk.vmdk", std::string(513, 'y'))
      .File("last.bin", std::string(512, 'z'));
  std::string path = tmp.Join("ustar.ova");
  tar.WriteFile(path);
  CheckAgainstPython(tmp, tar, path);
}

TEST_CASE("offsets: pax long names and a member over 8 GiB") {
  TempDir tmp;
  TarBuilder tar(TarFormat::kPax);
  tar.File("app.ovf", "<Envelope/>")
      .File(std::string(300, 'l') + ".vmdk", std::string(1000, 'x'))
      .File("\xE6\x97\xA5\xE6\x9C\xAC.vmdk", "utf-8 name")
      .Hole("big.vmdk", kOver8GiB)
      .File("after.txt", "after the big one");
  std::string path = tmp.Join("pax.ova");
  tar.WriteFile(path);
  CheckAgainstPython(tmp, tar, path);
  auto ours = OurMembers(path);
  REQUIRE_OK(ours);
  CHECK((*ours)[3].size == kOver8GiB);
}

TEST_CASE("offsets: GNU long names and a base-256 size over 8 GiB") {
  TempDir tmp;
  TarBuilder tar(TarFormat::kGnu);
  tar.File(std::string(250, 'g') + ".ovf", "<Envelope/>")
      .Hole(std::string(130, 'h') + ".vmdk", kOver8GiB)
      .File("after.txt", "after");
  std::string path = tmp.Join("gnu.ova");
  tar.WriteFile(path);
  CheckAgainstPython(tmp, tar, path);
}

TEST_CASE("offsets: gzip-wrapped tars give offsets in the tar stream") {
  TempDir tmp;
  REQUIRE(testing::HaveTool("gzip"));
  TarBuilder tar(TarFormat::kPax);
  tar.File("app.ovf", "<Envelope/>")
      .File(std::string(200, 'a') + ".vmdk", testing::PatternBytes(100000))
      .File("b.vmdk", "b");
  std::string plain = tmp.Join("plain.tar");
  tar.WriteFile(plain);
  REQUIRE(
      testing::RunCommand("gzip -n " + testing::ShellQuote(plain)).exit_code ==
      0);
  CheckAgainstPython(tmp, tar, plain + ".gz");
}

TEST_CASE("offsets: every corpus OVA, as Python sees it") {
  TempDir tmp;
  int compared = 0;
  for (const std::string& path : testing::CorpusFiles("ova")) {
    INFO(path);
    auto python = PythonMembers(tmp, path);
    auto ours = OurMembers(path);
    if (!python) {
      // Python cannot read it (not a tar): neither can we.
      CHECK(ours.status().code() == ErrorCode::kCorrupt);
      continue;
    }
    REQUIRE_OK(ours);
    CHECK(Show(*ours) == Show(*python));
    ++compared;
  }
  CHECK(compared >= 14);
}

}  // namespace
}  // namespace ova2virt

// Source identity: what pins a package, what does not, and that deciding
// reads no disk data.
#include "batch/batch_source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "ova/test_fixtures.h"

namespace ova2virt {
namespace {

namespace fs = std::filesystem;
using testing::Appliance;
using testing::TempDir;

// Moves a file's modification time without touching its bytes.
void Touch(const std::string& path, int seconds_later) {
  fs::last_write_time(
      path, fs::last_write_time(path) + std::chrono::seconds(seconds_later));
}

std::string IdOf(const std::string& path, bool trust = true) {
  auto id = IdentifySource(path, trust);
  REQUIRE_OK(id);
  return id->digest;
}

TEST_CASE("batch source: a manifest that lists every file pins the package") {
  TempDir dir;
  Appliance app;
  std::string a = dir.Join("a.ova");
  app.Tar().WriteFile(a);
  auto id = IdentifySource(a, true);
  REQUIRE_OK(id);
  CHECK(id->pinned_by_manifest);
  CHECK(id->digest.size() == 64);
  CHECK(id->descriptor_sha256 ==
        DigestHex(DigestAlgorithm::kSha256, AsBytes(app.Descriptor())));
  CHECK(id->manifest_sha256.size() == 64);
  CHECK(id->size == fs::file_size(a));

  // Touched or copied elsewhere: the same package.
  Touch(a, 100);
  CHECK(IdOf(a) == id->digest);
  std::string b = dir.Join("copy-of-a.ova");
  fs::copy_file(a, b);
  CHECK(IdOf(b) == id->digest);
  // The manifest laid out differently (CRLF, spaces) says the same.
  testing::TarBuilder crlf;
  crlf.File(app.ovf_name(), app.Descriptor());
  crlf.File(app.mf_name(), app.Manifest(DigestAlgorithm::kSha256, true, 1));
  for (const auto& d : app.disks) crlf.File(d.first, d.second);
  crlf.WriteFile(dir.Join("crlf.ova"));
  CHECK(IdOf(dir.Join("crlf.ova")) == id->digest);

  // Another disk means another manifest: another package.
  Appliance other;
  other.disks[0].second[5] ^= 1;
  other.Tar().WriteFile(dir.Join("other.ova"));
  CHECK(IdOf(dir.Join("other.ova")) != id->digest);
  // Another descriptor too.
  Appliance renamed;
  renamed.extra_hrefs = {};
  renamed.disks[1].first = "second.vmdk";
  renamed.Tar().WriteFile(dir.Join("renamed.ova"));
  CHECK(IdOf(dir.Join("renamed.ova")) != id->digest);
  // The same manifest with another algorithm is another manifest.
  app.Tar(DigestAlgorithm::kSha1).WriteFile(dir.Join("sha1.ova"));
  CHECK(IdOf(dir.Join("sha1.ova")) != id->digest);
}

TEST_CASE("batch source: without a pinning manifest, size and mtime count") {
  TempDir dir;
  Appliance app;
  auto check_unpinned = [&](const std::string& path) {
    CAPTURE(path);
    auto id = IdentifySource(path, true);
    REQUIRE_OK(id);
    CHECK_FALSE(id->pinned_by_manifest);
    std::string before = id->digest;
    CHECK(IdOf(path) == before);  // stable while nothing changes
    Touch(path, 100);
    CHECK(IdOf(path) != before);
  };
  SUBCASE("no manifest") {
    testing::TarBuilder tar;
    tar.File(app.ovf_name(), app.Descriptor());
    for (const auto& d : app.disks) tar.File(d.first, d.second);
    tar.WriteFile(dir.Join("bare.ova"));
    check_unpinned(dir.Join("bare.ova"));
  }
  SUBCASE("a manifest that leaves a referenced file out") {
    Appliance partial = app;
    partial.extra_hrefs = {"disk3.vmdk"};
    testing::TarBuilder tar;
    tar.File(partial.ovf_name(), partial.Descriptor());
    tar.File(partial.mf_name(), app.Manifest(DigestAlgorithm::kSha256, false));
    for (const auto& d : partial.disks) tar.File(d.first, d.second);
    tar.File("disk3.vmdk", "unlisted");
    tar.WriteFile(dir.Join("partial.ova"));
    check_unpinned(dir.Join("partial.ova"));
  }
  SUBCASE("verification off: the manifest pins nothing") {
    std::string path = dir.Join("noverify.ova");
    app.Tar().WriteFile(path);
    std::string trusted = IdOf(path, true);
    auto id = IdentifySource(path, false);
    REQUIRE_OK(id);
    CHECK_FALSE(id->pinned_by_manifest);
    CHECK(id->digest != trusted);
    Touch(path, 100);
    CHECK(IdOf(path, false) != id->digest);
    CHECK(IdOf(path, true) == trusted);
  }
}

TEST_CASE("batch source: a compressed tar is read only up to its first disk") {
  TempDir dir;
  Appliance app;
  app.Tar().WriteFile(dir.Join("a.ova"));
  REQUIRE(testing::RunCommand("gzip -n -c " +
                              testing::ShellQuote(dir.Join("a.ova")) + " > " +
                              testing::ShellQuote(dir.Join("a.ova.gz")))
              .exit_code == 0);
  auto id = IdentifySource(dir.Join("a.ova.gz"), true);
  REQUIRE_OK(id);
  CHECK(id->pinned_by_manifest);
  CHECK(id->digest == IdOf(dir.Join("a.ova")));  // the same package

  // The manifest behind the disks: not reached, so size and mtime count.
  testing::TarBuilder late;
  late.File(app.ovf_name(), app.Descriptor());
  for (const auto& d : app.disks) late.File(d.first, d.second);
  late.File(app.mf_name(), app.Manifest(DigestAlgorithm::kSha256));
  late.WriteFile(dir.Join("late.ova"));
  REQUIRE(testing::RunCommand("gzip -n " +
                              testing::ShellQuote(dir.Join("late.ova")))
              .exit_code == 0);
  auto late_id = IdentifySource(dir.Join("late.ova.gz"), true);
  REQUIRE_OK(late_id);
  CHECK_FALSE(late_id->pinned_by_manifest);
}

TEST_CASE("batch source: a huge disk is not read to decide") {
  TempDir dir;
  // 64 GiB of disk in a sparse tar: reading it would take minutes.
  testing::TarBuilder tar(testing::TarFormat::kPax);
  Appliance app;
  app.disks = {{"disk1.vmdk", ""}};
  tar.File(app.ovf_name(), app.Descriptor());
  tar.Hole("disk1.vmdk", uint64_t{64} << 30);
  tar.File(app.mf_name(),
           FormatManifestLine(DigestAlgorithm::kSha256, "disk1.vmdk",
                              std::string(64, 'a')));
  std::string path = dir.Join("huge.ova");
  tar.WriteFile(path);
  auto start = std::chrono::steady_clock::now();
  auto id = IdentifySource(path, true);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  REQUIRE_OK(id);
  CHECK(id->pinned_by_manifest);  // the manifest at the end was found
  CHECK(id->size > (uint64_t{64} << 30));
  CHECK(seconds < 2);
}

TEST_CASE("batch source: loose files count every file of their folder") {
  TempDir dir;
  Appliance app;
  fs::create_directory(dir.Join("vm"));
  std::string folder = dir.Join("vm");
  testing::WriteFileOrDie(folder + "/app.ovf", app.Descriptor());
  testing::WriteFileOrDie(folder + "/app.mf",
                          app.Manifest(DigestAlgorithm::kSha256));
  for (const auto& d : app.disks)
    testing::WriteFileOrDie(folder + "/" + d.first, d.second);
  testing::WriteFileOrDie(folder + "/vmware.log", "log");
  std::string by_file = IdOf(folder + "/app.ovf");
  CHECK(IdOf(folder) == by_file);  // the directory or its descriptor
  // A log changes nothing.
  testing::WriteFileOrDie(folder + "/vmware.log", "more log");
  CHECK(IdOf(folder + "/app.ovf") == by_file);
  // An extent no manifest lists changes the identity.
  testing::WriteFileOrDie(folder + "/disk1-flat.vmdk", "extent");
  std::string with_extent = IdOf(folder + "/app.ovf");
  CHECK(with_extent != by_file);
  Touch(folder + "/disk1-flat.vmdk", 100);
  CHECK(IdOf(folder + "/app.ovf") != with_extent);

  // A .vmx and its disks.
  fs::create_directory(dir.Join("vmx"));
  testing::WriteFileOrDie(
      dir.Join("vmx/m.vmx"),
      "config.version = \"8\"\nscsi0:0.fileName = \"m.vmdk\"\n");
  testing::WriteFileOrDie(dir.Join("vmx/m.vmdk"), "disk");
  auto vmx = IdentifySource(dir.Join("vmx/m.vmx"), true);
  REQUIRE_OK(vmx);
  CHECK(vmx->size == fs::file_size(dir.Join("vmx/m.vmx")) + 4);
  testing::WriteFileOrDie(dir.Join("vmx/m.vmdk"), "DISK");
  Touch(dir.Join("vmx/m.vmdk"), 100);
  CHECK(IdOf(dir.Join("vmx/m.vmx")) != vmx->digest);
}

TEST_CASE("batch source: errors") {
  TempDir dir;
  auto stdin_id = IdentifySource("-", true);
  CHECK(stdin_id.status().code() == ErrorCode::kUsage);
  CHECK(stdin_id.status().message().rfind("stdin cannot be", 0) == 0);

  std::string missing = dir.Join("missing.ova");
  auto none = IdentifySource(missing, true);
  CHECK(none.status().code() == ErrorCode::kNotFound);
  CHECK(none.status().message().rfind(missing + ": ", 0) == 0);

  std::string fifo = dir.Join("pipe.ova");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto pipe = IdentifySource(fifo, true);
  CHECK(pipe.status().code() == ErrorCode::kUsage);
  CHECK(pipe.status().message() ==
        fifo + ": a batch item's input must be a file or a directory");

  testing::TarBuilder no_ovf;
  no_ovf.File("disk1.vmdk", "x");
  no_ovf.WriteFile(dir.Join("no-ovf.ova"));
  auto corrupt = IdentifySource(dir.Join("no-ovf.ova"), true);
  CHECK(corrupt.status().code() == ErrorCode::kCorrupt);
  CHECK(corrupt.status().message() ==
        dir.Join("no-ovf.ova") +
            ": no ovf descriptor (.ovf member) in the package");

  testing::WriteFileOrDie(dir.Join("junk.ova"), std::string(3000, 'j'));
  CHECK(IdentifySource(dir.Join("junk.ova"), true).status().code() ==
        ErrorCode::kCorrupt);

  // A broken package of the corpus fails the same way.
  auto bad = IdentifySource(
      testing::CorpusPath("ova/glance_testserver-no-disk.ova"), true);
  CHECK_OK(bad);  // its descriptor and manifest are there; import fails later
}

}  // namespace
}  // namespace ova2virt

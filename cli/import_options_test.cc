// --format, --disk-bus, --nic-model and --virt-type: read once, here, into
// the enums of pipeline/import_choices.h, with CLI11's messages for a name
// that is not one of them.
#include "cli/import_options.h"

#include <CLI/CLI.hpp>

#include "core/file.h"
#include "tests/support/test_util.h"

namespace ova2virt::cli {
namespace {

// Parses `args` (after "import") as the import command would; the request,
// or "PARSE: <CLI11's message>" / the request's error.
struct Parsed {
  std::string error;
  std::optional<ImportRequest> request;
};

Parsed ParseImport(std::vector<std::string> args, bool for_run = false) {
  CLI::App app("test");
  ImportArgs a;
  AddImportOptions(app, a, for_run);
  args.insert(args.begin(), "ova2virt");
  std::vector<const char*> argv;
  for (const std::string& s : args) argv.push_back(s.c_str());
  Parsed p;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    p.error = std::string("PARSE: ") + e.what();
    return p;
  }
  auto r = a.ToRequest();
  if (!r.ok()) {
    p.error = r.status().message();
    return p;
  }
  p.request = std::move(r).value();
  return p;
}

TEST_CASE("import options: the defaults") {
  Parsed p = ParseImport({"a.ova"});
  REQUIRE(p.request);
  CHECK(p.request->format == VolumeFormat::kQcow2);
  CHECK(p.request->policy.disk_bus == DiskBusChoice::kAuto);
  CHECK(p.request->policy.nic_model == NicModelChoice::kKeep);
  CHECK(!p.request->policy.virt_type);
}

TEST_CASE("import options: every name of every choice reads") {
  for (const std::string& n : VolumeFormatNames()) {
    Parsed p = ParseImport({"a.ova", "--format", n});
    REQUIRE(p.request);
    CHECK(ToString(p.request->format) == n);
  }
  for (const std::string& n : DiskBusChoiceNames()) {
    Parsed p = ParseImport({"a.ova", "--disk-bus", n});
    REQUIRE(p.request);
    CHECK(ToString(p.request->policy.disk_bus) == n);
  }
  for (const std::string& n : NicModelChoiceNames()) {
    Parsed p = ParseImport({"a.ova", "--nic-model", n}, /*for_run=*/true);
    REQUIRE(p.request);
    CHECK(ToString(p.request->policy.nic_model) == n);
  }
  for (const std::string& n : VirtTypeNames()) {
    Parsed p = ParseImport({"a.ova", "--virt-type", n});
    REQUIRE(p.request);
    REQUIRE(p.request->policy.virt_type);
    CHECK(ToString(*p.request->policy.virt_type) == n);
  }
}

TEST_CASE("import options: an unknown name is refused with CLI11's message") {
  // What `ova2virt import` prints after "ova2virt: " (exit 2).
  CHECK(ParseImport({"a.ova", "--format", "vmdk"}).error ==
        "PARSE: --format: vmdk not in {qcow2,raw}");
  CHECK(ParseImport({"a.ova", "--disk-bus", "floppy"}).error ==
        "PARSE: --disk-bus: floppy not in {auto,keep,virtio,sata,scsi}");
  CHECK(ParseImport({"a.ova", "--nic-model", "vmxnet3"}).error ==
        "PARSE: --nic-model: vmxnet3 not in {keep,virtio,e1000}");
  CHECK(ParseImport({"a.ova", "--virt-type", "xen"}).error ==
        "PARSE: --virt-type: xen not in {kvm,qemu}");
}

TEST_CASE("import options: ToRequest refuses what skipped the option check") {
  ImportArgs a;
  a.input = "a.ova";
  a.disk_bus = "ide";
  auto r = a.ToRequest();
  REQUIRE(!r.ok());
  CHECK(r.status().code() == ErrorCode::kUsage);
  CHECK(r.status().message() ==
        "--disk-bus: ide not in {auto,keep,virtio,sata,scsi}");
  a.disk_bus = "auto";
  a.virt_type = "xen";
  CHECK(a.ToRequest().status().message() ==
        "--virt-type: xen not in {kvm,qemu}");
}

// The words completion/ova2virt.bash offers after `option`, as written
// there: `--disk-bus) COMPREPLY=($(compgen -W "auto keep ..." ...`.
std::vector<std::string> CompletionWords(const std::string& script,
                                         const std::string& option) {
  size_t at = script.find("        " + option + ") COMPREPLY=");
  REQUIRE_MESSAGE(at != std::string::npos, option << " not completed");
  size_t open = script.find("-W \"", at);
  size_t close = script.find('"', open + 4);
  REQUIRE(close != std::string::npos);
  std::vector<std::string> words;
  std::string word;
  for (char c : script.substr(open + 4, close - open - 4) + " ") {
    if (c != ' ') {
      word += c;
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
}

TEST_CASE("import options: --upload, but not with --storage-dir or for run") {
  CHECK(!ParseImport({"a.ova"}).request->upload);
  Parsed p = ParseImport({"a.ova", "--upload", "--pool", "p"});
  REQUIRE(p.request);
  CHECK(p.request->upload);
  p = ParseImport({"a.ova", "--upload", "--storage-dir", "d"});
  CHECK(!p.request);
  CHECK(p.error == "--upload does not go with --storage-dir");
  p = ParseImport({"a.ova", "--upload"}, true);
  CHECK(p.error.rfind("PARSE: ", 0) == 0);
}

TEST_CASE("import options: bash completion offers the names of the tables") {
  // The script cannot include a header: it is held to the tables here.
  auto script =
      ReadSmallFile(testing::SourcePath("completion/ova2virt.bash"), 1 << 20);
  REQUIRE_OK(script);
  CHECK(CompletionWords(*script, "--format") == VolumeFormatNames());
  CHECK(CompletionWords(*script, "--disk-bus") == DiskBusChoiceNames());
  CHECK(CompletionWords(*script, "--nic-model") == NicModelChoiceNames());
  CHECK(CompletionWords(*script, "--virt-type") == VirtTypeNames());
}

}  // namespace
}  // namespace ova2virt::cli

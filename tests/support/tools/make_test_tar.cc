// make-test-tar: the TarBuilder on the command line, so that shell tests
// can build exactly the (often hostile) archives the library tests build.
//
//   make-test-tar [--format ustar|pax|gnu] [--end-blocks N] OUT ENTRY...
//
// ENTRY is one of
//   file:NAME=@PATH      a file holding PATH's bytes
//   text:NAME=TEXT       a file holding TEXT
//   hole:NAME=SIZE       SIZE zero bytes, written sparsely
//   huge:NAME=SIZE       a file that claims SIZE bytes but holds one
//   badsum:NAME=TEXT     a file whose header checksum is wrong
//   symlink:NAME=TARGET  hardlink:NAME=TARGET
//   dir:NAME  chardev:NAME  blockdev:NAME  fifo:NAME
// NAME is everything up to the first '='; it may hold any byte but NUL.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/tar_builder.h"

namespace {

using ova2virt::testing::TarBuilder;
using ova2virt::testing::TarFormat;
using ova2virt::testing::TarMember;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "make-test-tar: %s\n", message.c_str());
  std::exit(2);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void AddEntry(TarBuilder& tar, const std::string& spec) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) Die("entry without a kind: " + spec);
  std::string kind = spec.substr(0, colon);
  std::string rest = spec.substr(colon + 1);
  size_t eq = rest.find('=');
  std::string name = rest.substr(0, eq);
  std::string value = eq == std::string::npos ? "" : rest.substr(eq + 1);
  TarMember m;
  m.name = name;
  if (kind == "file") {
    if (value.empty() || value[0] != '@') Die("file: needs =@PATH");
    m.data = ReadFile(value.substr(1));
  } else if (kind == "text") {
    m.data = value;
  } else if (kind == "hole") {
    m.hole_size = std::stoull(value);
  } else if (kind == "huge") {
    m.data = "x";
    m.declared_size = std::stoull(value);
  } else if (kind == "badsum") {
    m.data = value;
    m.bad_checksum = true;
  } else if (kind == "symlink" || kind == "hardlink") {
    m.type = kind == "symlink" ? '2' : '1';
    m.linkname = value;
  } else if (kind == "dir") {
    m.type = '5';
  } else if (kind == "chardev") {
    m.type = '3';
  } else if (kind == "blockdev") {
    m.type = '4';
  } else if (kind == "fifo") {
    m.type = '6';
  } else {
    Die("unknown entry kind: " + kind);
  }
  tar.Add(std::move(m));
}

}  // namespace

int main(int argc, char** argv) {
  // TarBuilder checks its own use with doctest's REQUIRE; outside a test
  // run, a failed check ends the program with a message.
  doctest::Context context;
  context.setAsDefaultForAssertsOutOfTestCases();
  context.setAssertHandler([](const doctest::AssertData& ad) {
    std::fprintf(stderr, "make-test-tar: %s:%d: check failed: %s\n", ad.m_file,
                 ad.m_line, ad.m_expr);
    std::exit(2);
  });
  TarFormat format = TarFormat::kUstar;
  int end_blocks = 2;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
    std::string opt = argv[i];
    if (i + 1 >= argc) Die(opt + " needs a value");
    std::string v = argv[i + 1];
    if (opt == "--format") {
      format = v == "pax"     ? TarFormat::kPax
               : v == "gnu"   ? TarFormat::kGnu
               : v == "ustar" ? TarFormat::kUstar
                              : (Die("unknown format " + v), TarFormat::kUstar);
    } else if (opt == "--end-blocks") {
      end_blocks = std::atoi(v.c_str());
    } else {
      Die("unknown option " + opt);
    }
  }
  if (i >= argc) Die("usage: make-test-tar [--format F] OUT ENTRY...");
  std::string out = argv[i++];
  TarBuilder tar(format);
  tar.EndBlocks(end_blocks);
  for (; i < argc; ++i) AddEntry(tar, argv[i]);
  tar.WriteFile(out);
  return 0;
}

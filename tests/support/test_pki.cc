#include "tests/support/test_pki.h"

namespace ova2virt::testing {

TestPki::TestPki() {
  REQUIRE_MESSAGE(HaveTool("openssl"), "the openssl tool is needed");
  const std::string ca_ext =
      "-addext basicConstraints=critical,CA:TRUE "
      "-addext keyUsage=critical,keyCertSign,cRLSign";
  Run("openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key "
      "-out self.pem -days 3650 -subj '/CN=ova2virt test signer/O=ova2virt'");
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -keyout ec.key -out ec.pem -days 3650 "
      "-subj '/CN=ova2virt ec signer'");
  Run("openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key "
      "-out root.pem -days 3650 -subj '/CN=ova2virt test root' " +
      ca_ext);
  Run("openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key "
      "-out other.pem -days 3650 -subj '/CN=ova2virt other root' " +
      ca_ext);
  Run("printf 'basicConstraints=critical,CA:TRUE\\n"
      "keyUsage=critical,keyCertSign,cRLSign\\n' > ca.ext");
  Run("openssl req -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr "
      "-subj '/CN=ova2virt test intermediate'");
  Run("openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key "
      "-set_serial 2 -days 3650 -extfile ca.ext -out inter.pem");
  Run("openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr "
      "-subj '/CN=ova2virt test leaf'");
  Run("openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key "
      "-set_serial 3 -days 3650 -out leaf.pem");
  self_signed_ = Read("self");
  ec_ = Read("ec");
  root_ = Read("root");
  other_root_ = Read("other");
  intermediate_ = Read("inter");
  leaf_ = Read("leaf");
}

void TestPki::Run(const std::string& command) const {
  CommandResult r =
      RunCommand("cd " + ShellQuote(tmp_.path()) + " && " + command + " 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, command << ": " << r.out);
}

KeyPair TestPki::Read(const std::string& stem) const {
  return {ReadFileOrDie(tmp_.Join(stem + ".key")),
          ReadFileOrDie(tmp_.Join(stem + ".pem"))};
}

}  // namespace ova2virt::testing

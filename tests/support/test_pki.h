// Keys and certificates for signature tests, made at test time with the
// `openssl` command-line tool (a referee independent of our OpenSSL calls):
// a self-signed signer, and a root CA -> intermediate CA -> leaf chain.
#ifndef OVA2VIRT_TESTS_SUPPORT_TEST_PKI_H_
#define OVA2VIRT_TESTS_SUPPORT_TEST_PKI_H_

#include <string>

#include "tests/support/test_util.h"

namespace ova2virt::testing {

struct KeyPair {
  std::string key_pem;   // unencrypted private key
  std::string cert_pem;  // its certificate
};

class TestPki {
 public:
  // Creates everything in a fresh temporary directory; REQUIREs `openssl`.
  TestPki();

  // Self-signed RSA 2048, CN=ova2virt test signer.
  const KeyPair& self_signed() const { return self_signed_; }
  // Self-signed EC P-256, CN=ova2virt ec signer.
  const KeyPair& ec_self_signed() const { return ec_; }
  // CN=ova2virt test root (CA:TRUE, self-signed).
  const KeyPair& root() const { return root_; }
  // CN=ova2virt test intermediate, issued by root (CA:TRUE).
  const KeyPair& intermediate() const { return intermediate_; }
  // CN=ova2virt test leaf, issued by the intermediate.
  const KeyPair& leaf() const { return leaf_; }
  // A second, unrelated self-signed CA.
  const KeyPair& other_root() const { return other_root_; }

  const std::string& dir() const { return tmp_.path(); }

 private:
  KeyPair Read(const std::string& stem) const;
  void Run(const std::string& command) const;
  TempDir tmp_;
  KeyPair self_signed_, ec_, root_, intermediate_, leaf_, other_root_;
};

}  // namespace ova2virt::testing

#endif  // OVA2VIRT_TESTS_SUPPORT_TEST_PKI_H_

// tests/tls_certs.h
//
// Test certificates made on the fly with the `openssl` command-line tool: a
// self-signed CA and a server certificate it signs for IP 127.0.0.1 (CN and SAN),
// in a fresh temporary directory removed at the end. Nothing is checked in, so no
// certificate in the repository can expire.
//
// Thread-safety: one test thread owns a TlsCerts (TlsCertsTest: one per suite).
#ifndef ATTRIB_TESTS_TLS_CERTS_H_
#define ATTRIB_TESTS_TLS_CERTS_H_

#include <string>

#include "gtest/gtest.h"

namespace attrib::testing {

class TlsCerts {
 public:
  // Generates the files; ok() is false (and the test has an ADD_FAILURE) if the
  // openssl tool failed.
  TlsCerts();
  ~TlsCerts();
  TlsCerts(const TlsCerts&) = delete;
  TlsCerts& operator=(const TlsCerts&) = delete;

  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }
  std::string ca() const { return dir_ + "/ca.pem"; }          // The CA certificate.
  std::string cert() const { return dir_ + "/server.pem"; }    // Signed by ca().
  std::string key() const { return dir_ + "/server.key"; }     // cert()'s key.
  std::string other_ca() const { return dir_ + "/other-ca.pem"; }  // Signed nothing here.
  std::string other_key() const { return dir_ + "/other-ca.key"; }  // Not cert()'s key.
  // The attribd flags serving cert() and key().
  std::string cert_flag() const { return "--tls_cert=" + cert(); }
  std::string key_flag() const { return "--tls_key=" + key(); }

 private:
  std::string dir_;
  bool ok_ = false;
};

// A test suite sharing one TlsCerts (generated once per suite, in certs_).
class TlsCertsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new TlsCerts(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(certs_->ok()); }

  static inline TlsCerts* certs_ = nullptr;
};

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_TLS_CERTS_H_

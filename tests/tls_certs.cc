// tests/tls_certs.cc: certificates for the TLS tests (see the header).
#include "tests/tls_certs.h"

#include <stdlib.h>

#include <fstream>

#include "gtest/gtest.h"
#include "tests/attribd_process.h"

namespace attrib::testing {

TlsCerts::TlsCerts() {
  char tmpl[] = "/tmp/attrib-tls-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  std::ofstream(dir_ + "/server.ext")
      << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
         "keyUsage=critical,digitalSignature,keyEncipherment\n"
         "extendedKeyUsage=serverAuth\n";
  // EC P-256 keys: fast to generate, accepted by every TLS 1.2+ stack.
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string ca_ext =
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign";
  const std::string script =
      "set -e; cd '" + dir_ + "'; " +
      "openssl req -x509 " + key + " -days 2 -subj '/CN=attrib test CA' " + ca_ext +
      " -keyout ca.key -out ca.pem; " +
      "openssl req -x509 " + key + " -days 2 -subj '/CN=another CA' " + ca_ext +
      " -keyout other-ca.key -out other-ca.pem; " +
      "openssl req " + key + " -subj '/CN=127.0.0.1' -keyout server.key -out server.csr; " +
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile server.ext -out server.pem 2>&1";
  int status = 0;
  const std::string out = RunCommand("(" + script + ") 2>&1", &status);
  ok_ = status == 0;
  if (!ok_) ADD_FAILURE() << "openssl failed (" << status << "): " << out;
}

TlsCerts::~TlsCerts() {
  if (dir_.empty()) return;
  int status = 0;
  RunCommand("rm -rf '" + dir_ + "'", &status);
}

}  // namespace attrib::testing

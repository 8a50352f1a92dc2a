// tests/tls_tools_test.cc
//
// TLS from the outside, against a real attribd: `openssl s_client` as an
// independent TLS client carrying a request frame made by `capnp encode`, whose
// reply `capnp decode` reads; attribctl --tls/--tls_ca; attribd's errors for bad
// TLS flag combinations and files (exit 2, naming the flag); the loud warning when
// a non-loopback address is served without TLS.
//
// Thread-safety: single-threaded.
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/attribd_process.h"
#include "tests/tls_certs.h"

namespace attrib {
namespace {

using testing::AttribdProcess;
using testing::RunCommand;

const std::string kSchema = std::string(ATTRIB_SOURCE_DIR) + "/net/attrib.capnp";

class TlsToolsTest : public testing::TlsCertsTest {
 protected:
  // attribctl with the given flags and subcommand; stdout and stderr together.
  static std::string Ctl(const std::string& args, int* status) {
    return RunCommand(std::string(ATTRIBCTL_PATH) + " " + args + " 2>&1", status);
  }
  // attribd with the given flags, expected to fail at start; its stderr.
  static std::string FailingAttribd(const std::string& flags, int* status) {
    char dir[] = "/tmp/attribd-tls-flags-XXXXXX";
    const std::string data = mkdtemp(dir);
    const std::string out = RunCommand(std::string(ATTRIBD_PATH) +
                                           " --listen=127.0.0.1:0 --data_dir=" + data + " " +
                                           flags + " 2>&1 </dev/null",
                                       status);
    int ignored = 0;
    RunCommand("rm -rf '" + data + "'", &ignored);
    return out;
  }
};

TEST_F(TlsToolsTest, OpensslSClientGetsADecodableReply) {
  // The idle timeout closes the connection after the reply, which ends s_client
  // (-quiet keeps it reading after its stdin ends).
  AttribdProcess server(
      {certs_->cert_flag(), certs_->key_flag(), "--idle_timeout=1s"});
  ASSERT_TRUE(server.ok());
  const std::string dir = certs_->dir();
  {
    std::ofstream(dir + "/req.txt")
        << "(id = 7, connect = (shop = 5, email = \"S.Client@Example.com\", affiliate = 9))\n"
        << "(id = 8, lookup = (shop = 5, email = \"s.client@example.com\"))\n";
  }
  int status = 0;
  RunCommand("capnp encode " + kSchema + " Request < " + dir + "/req.txt > " + dir +
                 "/req.bin",
             &status);
  ASSERT_EQ(status, 0) << "capnp encode failed";
  const std::string sclient = RunCommand(
      "timeout 60 openssl s_client -quiet -verify_return_error -CAfile " + certs_->ca() +
          " -verify_ip 127.0.0.1 -connect " + server.address() + " < " + dir +
          "/req.bin > " + dir + "/resp.bin 2> " + dir + "/sclient.err; cat " + dir +
          "/sclient.err",
      &status);
  // s_client verified the chain (depth 1: our CA, depth 0: the server) ...
  EXPECT_NE(sclient.find("depth=0 CN = 127.0.0.1"), std::string::npos) << sclient;
  EXPECT_EQ(sclient.find("verify error"), std::string::npos) << sclient;
  // ... and the replies decode. (Its exit status is 1: the server closes without a
  // close_notify, which s_client reports as an unexpected EOF; see net/server.h.)
  const std::string text = RunCommand(
      "capnp decode --short " + kSchema + " Response < " + dir + "/resp.bin", &status);
  ASSERT_EQ(status, 0) << "capnp decode failed; s_client said: " << sclient;
  EXPECT_NE(text.find("(id = 7, connect = (outcome = created"), std::string::npos) << text;
  EXPECT_NE(text.find("(id = 8, lookup = (found = true"), std::string::npos) << text;
  EXPECT_NE(text.find("affiliate = 9"), std::string::npos) << text;
}

TEST_F(TlsToolsTest, AttribctlWithTlsCa) {
  AttribdProcess server({certs_->cert_flag(), certs_->key_flag()});
  ASSERT_TRUE(server.ok());
  const std::string base = "--server " + server.address() + " --tls_ca " + certs_->ca();
  int status = 0;
  std::string out = Ctl(base + " ping", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("pong from " + server.address()), std::string::npos) << out;
  out = Ctl(base + " --shop 4 connect ctl@example.com --affiliate 12", &status);
  EXPECT_EQ(status, 0) << out;
  out = Ctl("--tls " + base + " --shop 4 lookup ctl@example.com", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("affiliate 12"), std::string::npos) << out;
}

TEST_F(TlsToolsTest, AttribctlErrorsAreClear) {
  AttribdProcess server({certs_->cert_flag(), certs_->key_flag()});
  ASSERT_TRUE(server.ok());
  int status = 0;
  // --tls alone trusts the system's CAs, which did not sign the test certificate.
  std::string out = Ctl("--server " + server.address() + " --tls ping", &status);
  EXPECT_EQ(status, 3) << out;
  EXPECT_NE(out.find("tls: certificate verify failed"), std::string::npos) << out;
  out = Ctl("--server " + server.address() + " --tls_ca " + certs_->other_ca() + " ping",
            &status);
  EXPECT_EQ(status, 3) << out;
  EXPECT_NE(out.find("tls: certificate verify failed"), std::string::npos) << out;
  out = Ctl("--server " + server.address() + " --tls_ca /nonexistent/ca.pem ping", &status);
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("--tls-ca: cannot read"), std::string::npos) << out;
  // Without --tls the server closes the clear-text connection: unreachable.
  out = Ctl("--server " + server.address() + " ping", &status);
  EXPECT_EQ(status, 3) << out;
}

TEST_F(TlsToolsTest, AttribdRefusesBadTlsFlags) {
  struct Case {
    std::string flags;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {certs_->cert_flag(), "tls_key: --tls_cert was given without --tls_key"},
      {certs_->key_flag(), "tls_cert: --tls_key was given without --tls_cert"},
      {"--tls_cert=/nonexistent/cert.pem " + certs_->key_flag(),
       "tls_cert: cannot load a PEM certificate chain from /nonexistent/cert.pem"},
      {certs_->cert_flag() + " --tls_key=/nonexistent/key.pem",
       "tls_key: cannot load a PEM private key from /nonexistent/key.pem"},
      {certs_->cert_flag() + " --tls_key=" + certs_->other_key(),
       "is not the private key of the certificate"},
  };
  for (const Case& c : cases) {
    int status = 0;
    const std::string out = FailingAttribd(c.flags, &status);
    EXPECT_EQ(status, 2) << c.flags << ": " << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << c.flags << ": " << out;
    EXPECT_EQ(out.find("listening on"), std::string::npos) << c.flags << ": " << out;
    // Checked before recovery (which can take seconds), not after it.
    EXPECT_EQ(out.find("recovered"), std::string::npos) << c.flags << ": " << out;
  }
}

TEST_F(TlsToolsTest, NonLoopbackWithoutTlsWarnsLoudly) {
  AttribdProcess plain({"--listen=0.0.0.0:0", "--insecure"});
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(plain.banner().find("tls off"), std::string::npos) << plain.banner();
  plain.Stop();  // Stderr is complete once it exited.
  const std::string err = plain.Stderr();
  EXPECT_NE(err.find("WARNING"), std::string::npos) << err;
  EXPECT_NE(err.find("WITHOUT TLS"), std::string::npos) << err;
  EXPECT_NE(err.find("clear text"), std::string::npos) << err;

  AttribdProcess tls({"--listen=0.0.0.0:0", "--insecure", certs_->cert_flag(),
                      certs_->key_flag()});
  ASSERT_TRUE(tls.ok());
  EXPECT_NE(tls.banner().find("tls on"), std::string::npos) << tls.banner();
  tls.Stop();
  EXPECT_EQ(tls.Stderr().find("WITHOUT TLS"), std::string::npos) << tls.Stderr();
}

}  // namespace
}  // namespace attrib

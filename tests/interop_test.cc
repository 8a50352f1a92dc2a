// tests/interop_test.cc
//
// Proof that any Cap'n Proto implementation can speak to attrib: requests are
// written as text, encoded by the `capnp encode` command-line tool from
// net/attrib.capnp, sent over a plain socket (not the client library), and the
// server's reply bytes are decoded by `capnp decode`. This is the README's
//   capnp encode net/attrib.capnp Request < req.txt | ... | capnp decode ... Response
//
// Thread-safety: single-threaded.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/attribd_process.h"
#include "tests/raw_socket.h"

namespace attrib {
namespace {

using testing::AttribdProcess;
using testing::RunCommand;

const std::string kSchema = std::string(ATTRIB_SOURCE_DIR) + "/net/attrib.capnp";

std::string Encode(const std::string& text) {
  char path[] = "/tmp/attrib-interop-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  int status = 0;
  const std::string bytes = RunCommand(
      "capnp encode " + kSchema + " Request < " + path, &status);
  unlink(path);
  EXPECT_EQ(status, 0) << "capnp encode failed for: " << text;
  return bytes;
}

std::string Decode(const std::string& bytes) {
  char path[] = "/tmp/attrib-interop-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(fd);
  int status = 0;
  // --short: one line per message.
  const std::string text =
      RunCommand("capnp decode --short " + kSchema + " Response < " + path, &status);
  unlink(path);
  EXPECT_EQ(status, 0) << "capnp decode failed";
  return text;
}

TEST(InteropTest, CapnpToolRequestsGetCapnpToolDecodableReplies) {
  AttribdProcess server;
  ASSERT_TRUE(server.ok());
  const std::string requests =
      Encode("(id = 1, connect = (shop = 7, email = \"Jane.Doe@GoogleMail.com\", "
             "affiliate = 42, source = manual))") +
      Encode("(id = 2, lookup = (shop = 7, email = \"janedoe@gmail.com\"))") +
      Encode("(id = 3, attribute = (shop = 7, orderId = \"1001\", "
             "email = \"jane.doe@gmail.com\", referralAffiliate = 9))") +
      Encode("(id = 4, connect = (shop = 7, email = \"x@@y\", affiliate = 1))") +
      Encode("(id = 5, ping = void)");
  testing::RawSocket raw(server.address());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.SendAll(requests));
  raw.ShutdownWrite();  // The server answers everything, then closes.
  bool closed = false;
  const std::string replies = raw.ReadUntilClosed(30'000, &closed);
  ASSERT_TRUE(closed);
  const std::string text = Decode(replies);
  EXPECT_NE(text.find("(id = 1, connect = (outcome = created"), std::string::npos) << text;
  EXPECT_NE(text.find("canonicalEmail = \"janedoe@gmail.com\""), std::string::npos) << text;
  EXPECT_NE(text.find("(id = 2, lookup = (found = true"), std::string::npos) << text;
  EXPECT_NE(text.find("reason = connected"), std::string::npos) << text;
  EXPECT_NE(text.find("(id = 4, error = (code = invalidArgument, message = \"email:"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(id = 5, pong = void, seq = 0)"), std::string::npos) << text;
  EXPECT_NE(text.find("), seq = 1)"), std::string::npos) << text;  // The connect's (issue 16).
}

}  // namespace
}  // namespace attrib

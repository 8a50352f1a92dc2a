// tests/pipeline_check.h
//
// Workloads shared by the end-to-end tests of the plain and the TLS server:
//  - pipelining: `requests` requests (connects and lookups of the emails just
//    connected, alternating) all sent before any reply is read, then every reply
//    checked, in order. Sending everything first makes the client's writes
//    interleave reads of the replies, or both sides' buffers fill and it deadlocks;
//  - a client that never reads its replies: the server must stop reading it.
//
// Thread-safety: uses the one Client given; gtest assertions of the calling test.
#ifndef ATTRIB_TESTS_PIPELINE_CHECK_H_
#define ATTRIB_TESTS_PIPELINE_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "net/client.h"
#include "tests/attribd_process.h"

namespace attrib::testing {

// Request ids are 1000 + i; shop 1; emails p<i>@x.com.
void ExpectPipelinedRepliesInOrder(net::Client* client, uint64_t requests);

// The bytes of one lookup request frame (shop 1).
std::string LookupFrame(uint64_t id, const std::string& email);

// Writes `burst` over and over until the socket stays unwritable for `stall_ms` or
// `max_total` bytes were written; returns the bytes written.
using FillFunction =
    std::function<size_t(const std::string& burst, int stall_ms, size_t max_total)>;
// `server` runs with --max_queued_output_bytes=65536; `setup` is a connected
// client. Connects slow@reader.com, then `fill` sends lookups of it from a client
// that never reads: the server must stop reading (well before 256 MiB), hold little
// memory (< 32 MiB more), and keep serving `setup`.
void ExpectNeverReadingClientIsPaused(const AttribdProcess& server, net::Client* setup,
                                      const FillFunction& fill);

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_PIPELINE_CHECK_H_

// tests/pipeline_check.h
//
// One pipelining workload shared by the end-to-end tests of the plain and the TLS
// server: `requests` requests (connects and lookups of the emails just connected,
// alternating) all sent before any reply is read, then every reply checked, in
// order. Sending everything first makes the client's writes interleave reads of the
// replies, or both sides' buffers fill and it deadlocks.
//
// Thread-safety: uses the one Client given; gtest assertions of the calling test.
#ifndef ATTRIB_TESTS_PIPELINE_CHECK_H_
#define ATTRIB_TESTS_PIPELINE_CHECK_H_

#include <cstdint>

#include "net/client.h"

namespace attrib::testing {

// Request ids are 1000 + i; shop 1; emails p<i>@x.com.
void ExpectPipelinedRepliesInOrder(net::Client* client, uint64_t requests);

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_PIPELINE_CHECK_H_

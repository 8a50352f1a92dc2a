// net/request_latency.h
//
// Kept for the includes of other branches: the latency histograms now live in the
// protocol-neutral service layer (service/request_latency.h), which times the
// requests of every front end. Remove once the front ends move apart (README Layout).
//
// Thread-safety: as service/request_latency.h.
#ifndef ATTRIB_NET_REQUEST_LATENCY_H_
#define ATTRIB_NET_REQUEST_LATENCY_H_

#include "service/request_latency.h"

namespace attrib::net {
using service::RequestLatency;
}  // namespace attrib::net

#endif  // ATTRIB_NET_REQUEST_LATENCY_H_

// cluster/lease_guard.cc: the write deadline of a primary (see the header).
#include "cluster/lease_guard.h"

#include <algorithm>

namespace attrib::cluster {

void LeaseGuard::Renewed(absl::Time sent) {
  const absl::Time until =
      sent + options_.ttl * (1.0 - options_.max_clock_drift) - options_.margin;
  // A late answer to an older renewal never moves the deadline back.
  deadline_ = std::max(deadline_, until);
}

}  // namespace attrib::cluster

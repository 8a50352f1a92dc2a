// bench/bench_worker_requests.cc: what a connection of a Worker sends next: the
// closed- and open-loop window (Fill), the operation and key choice, and the encoding
// of one request into the connection's output buffer (Issue). See bench_worker.h.
//
// Thread-safety: as the header (a Worker's own thread).
#include <algorithm>
#include <cmath>

#include "bench/bench_worker.h"
#include "bench/email_generator.h"

namespace attrib::bench {

int64_t Worker::Intended(const Conn& c, uint64_t k) const {
  return run_->start_ns + c.offset_ns +
         static_cast<int64_t>(std::llround(static_cast<double>(k) * interval_ns_));
}

Op Worker::PickOp(Conn& c) const {
  const uint32_t r = static_cast<uint32_t>(c.rng.Below(run_->spec->mix.total));
  for (int op = 0; op < kWorkloadOps; ++op) {
    if (r < cumulative_weight_[op]) return static_cast<Op>(op);
  }
  return Op::kLookup;  // Not reached: the last threshold is the total.
}

uint64_t Worker::NextKey() {
  const KeySet& keys = *run_->spec->keys;
  const uint64_t index = key_ahead_[key_head_];
  const uint64_t fresh = run_->spec->chooser->Next(key_rng_);
  key_ahead_[key_head_] = fresh;
  keys.PrefetchOffset(fresh);  // Used kKeyLookahead draws from now.
  // Half way: the offset prefetched then has arrived; fetch the key's bytes.
  keys.PrefetchBytes(key_ahead_[(key_head_ + kKeyLookahead / 2) & (kKeyLookahead - 1)]);
  key_head_ = (key_head_ + 1) & (kKeyLookahead - 1);
  return index;
}

absl::string_view Worker::FreshKey(uint64_t* index) {
  const uint64_t j = run_->fresh_cursor->fetch_add(1, std::memory_order_relaxed);
  const PhaseSpec& spec = *run_->spec;
  *index = spec.keys->size() + j;
  if (spec.fresh_keys != nullptr && j < spec.fresh_keys->size()) return spec.fresh_keys->Get(j);
  ++counters_->fresh_generated;  // The pool ran out: generate (allocates; counted).
  fresh_key_ = RealisticEmail(*index, spec.seed);
  return fresh_key_;
}

void Worker::Issue(Conn& c, int64_t intended_ns, bool measured) {
  const PhaseSpec& spec = *run_->spec;
  const bool attrib = options_.target == Target::kAttrib;
  const uint64_t id = c.next_id++;
  InFlight request{intended_ns, 1, Op::kLookup, measured};
  if (attrib && !options_.auth_token.empty() && !c.auth_sent) {
    c.auth_sent = c.auth_in_flight = true;
    request.op = Op::kAuth;
    request.measured = false;
    encoder_->Auth(c.out, id, options_.auth_token);
  } else if (spec.load) {
    const uint64_t i = c.load_next++;
    if (--c.quota == 0) --conns_with_quota_;
    request.op = Op::kLoad;
    const absl::string_view key = spec.keys->Get(i);
    if (attrib) {
      encoder_->Connect(c.out, id, options_.shop, key, 1 + i % 1000, ConnectMode::kIfAbsent);
    } else {
      EncodeRespSet(c.out, key, 1 + i % 1000);
    }
  } else {
    request.op = PickOp(c);
    switch (request.op) {
      case Op::kLookup: {
        const absl::string_view key = spec.keys->Get(NextKey());
        attrib ? encoder_->Lookup(c.out, id, options_.shop, key) : EncodeRespGet(c.out, key);
        break;
      }
      case Op::kBatch: {
        batch_keys_.clear();
        for (uint32_t k = 0; k < spec.batch; ++k) {
          batch_keys_.push_back(spec.keys->Get(NextKey()));
        }
        request.keys = spec.batch;
        attrib ? encoder_->LookupBatch(c.out, id, options_.shop, batch_keys_)
               : EncodeRespMget(c.out, batch_keys_);
        break;
      }
      case Op::kConnect: {
        uint64_t index;
        absl::string_view key;
        ConnectMode mode = ConnectMode::kReassign;
        if (spec.fresh_connects) {
          key = FreshKey(&index);
          mode = ConnectMode::kIfAbsent;
        } else {
          index = NextKey();
          key = spec.keys->Get(index);
        }
        // Reassign picks a random affiliate: with Redis SET it is a real overwrite too.
        const uint64_t affiliate =
            spec.fresh_connects ? 1 + index % 1000 : 1 + c.rng.Below(1000);
        attrib ? encoder_->Connect(c.out, id, options_.shop, key, affiliate, mode)
               : EncodeRespSet(c.out, key, affiliate);
        break;
      }
      case Op::kAttribute: {
        // Validated before the run: attribute is attrib-only.
        const absl::string_view key = spec.keys->Get(NextKey());
        c.order_id.assign(spec.order_prefix);
        AppendDecimal(c.order_id, static_cast<uint64_t>(c.index));
        c.order_id.push_back('-');
        AppendDecimal(c.order_id, c.order_seq++);
        encoder_->Attribute(c.out, id, options_.shop, c.order_id, key);
        break;
      }
      case Op::kPing:
        attrib ? encoder_->Ping(c.out, id) : EncodeRespPing(c.out);
        break;
      default:
        break;
    }
    if (measured && requests_mode_ && c.quota > 0 && --c.quota == 0) --conns_with_quota_;
  }
  if (c.ring_count == 0) c.last_progress_ns = MonotonicNanos();
  c.ring[(c.ring_head + c.ring_count++) & (c.ring.size() - 1)] = request;
}

void Worker::Fill(Conn& c, int64_t now) {
  if (!issuing_ || (!requests_mode_ && now >= run_->end_ns)) return;
  const PhaseSpec& spec = *run_->spec;
  const uint32_t window = spec.pipeline + (c.auth_in_flight ? 1 : 0);
  if (spec.load || spec.rate <= 0) {
    // Closed loop: keep the window full.
    while (c.ring_count < window) {
      if (spec.load || requests_mode_) {
        // Requests intended before the measured window are warmup: not on the quota.
        const bool measured = spec.load || now >= run_->measure_ns;
        if (measured && c.quota == 0) break;
        Issue(c, now, measured);
      } else {
        Issue(c, now, now >= run_->measure_ns);
      }
    }
    return;
  }
  // Open loop: every request that is due, as long as the window has room. A request
  // that waits keeps its intended time: its latency includes the wait.
  while (c.ring_count < window) {
    const int64_t intended = Intended(c, c.scheduled);
    if (intended > now || intended >= run_->end_ns) break;
    const bool measured = intended >= run_->measure_ns;
    if (requests_mode_ && measured && c.quota == 0) break;
    Issue(c, intended, measured);
    ++c.scheduled;
  }
}


}  // namespace attrib::bench

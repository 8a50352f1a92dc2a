// common/metrics_text.h
//
// Writes metrics in the Prometheus text exposition format (version 0.0.4), the body
// of a GET /metrics reply. Pure formatting, no I/O:
//
//   # HELP attrib_requests_total Requests handled, by operation and result.
//   # TYPE attrib_requests_total counter
//   attrib_requests_total{op="lookup",result="ok"} 42
//
// Every sample of a family must be written in one run, right after its Family()
// (the format forbids a family appearing twice); the caller keeps to that. Label values are escaped (\\, \", \n),
// HELP text too (\\, \n). A histogram becomes _bucket{le="..."} lines with
// cumulative counts ending at le="+Inf", then _sum (seconds) and _count.
//
// Thread-safety: a MetricsText is used by one thread at a time.
#ifndef ATTRIB_COMMON_METRICS_TEXT_H_
#define ATTRIB_COMMON_METRICS_TEXT_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "common/histogram.h"

namespace attrib::metrics {

// Label name -> value, in the order written.
using Labels = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsText {
 public:
  // Starts a family: HELP and TYPE lines. Samples follow with Sample()/Histogram().
  void Family(absl::string_view name, MetricType type, absl::string_view help);
  // One sample of the current family (name must be the family's, or for histograms
  // written by hand, the family name plus a suffix).
  void Sample(absl::string_view name, Labels labels, double value);
  void Sample(absl::string_view name, Labels labels, uint64_t value);
  // Family + one unlabelled sample.
  void Counter(absl::string_view name, absl::string_view help, uint64_t value);
  void Gauge(absl::string_view name, absl::string_view help, double value);
  // The _bucket/_sum/_count lines of one histogram of the current family.
  void Histogram(absl::string_view name, Labels labels, const HistogramSnapshot& h);

  const std::string& text() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  void WriteSeries(absl::string_view name, Labels labels, absl::string_view extra_name,
                   absl::string_view extra_value);
  std::string out_;
};

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(absl::string_view value);
// Formats a sample value: integers exactly, others shortest-round-trip, +Inf/-Inf/NaN.
std::string FormatValue(double value);

}  // namespace attrib::metrics

#endif  // ATTRIB_COMMON_METRICS_TEXT_H_

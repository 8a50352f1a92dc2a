// common/metrics_text.cc: see metrics_text.h.
#include "common/metrics_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace attrib::metrics {
namespace {

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  // Prefer the shortest form that reads back to the same double.
  for (int precision = 1; precision < 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof(shorter), "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return buf;
}

void MetricsText::Family(absl::string_view name, MetricType type, absl::string_view help) {
  absl::StrAppend(&out_, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ",
                  TypeName(type), "\n");
}

void MetricsText::WriteSeries(absl::string_view name, Labels labels,
                              absl::string_view extra_name, absl::string_view extra_value) {
  out_.append(name.data(), name.size());
  if (labels.size() == 0 && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    absl::StrAppend(&out_, label, "=\"", EscapeLabelValue(value), "\"");
  }
  if (!extra_name.empty()) {
    if (!first) out_ += ',';
    absl::StrAppend(&out_, extra_name, "=\"", extra_value, "\"");
  }
  out_ += '}';
}

void MetricsText::Sample(absl::string_view name, Labels labels, double value) {
  WriteSeries(name, labels, "", "");
  absl::StrAppend(&out_, " ", FormatValue(value), "\n");
}

void MetricsText::Sample(absl::string_view name, Labels labels, uint64_t value) {
  WriteSeries(name, labels, "", "");
  absl::StrAppend(&out_, " ", value, "\n");
}

void MetricsText::Counter(absl::string_view name, absl::string_view help, uint64_t value) {
  Family(name, MetricType::kCounter, help);
  Sample(name, {}, value);
}

void MetricsText::Gauge(absl::string_view name, absl::string_view help, double value) {
  Family(name, MetricType::kGauge, help);
  Sample(name, {}, value);
}

void MetricsText::Histogram(absl::string_view name, Labels labels,
                            const HistogramSnapshot& h) {
  const std::string bucket = absl::StrCat(name, "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kFiniteBuckets; ++i) {
    cumulative += h.counts[i];
    WriteSeries(bucket, labels, "le", FormatValue(kBucketBoundsNanos[i] / 1e9));
    absl::StrAppend(&out_, " ", cumulative, "\n");
  }
  cumulative += h.counts[kFiniteBuckets];
  WriteSeries(bucket, labels, "le", "+Inf");
  absl::StrAppend(&out_, " ", cumulative, "\n");
  Sample(absl::StrCat(name, "_sum"), labels, static_cast<double>(h.sum_nanos) / 1e9);
  Sample(absl::StrCat(name, "_count"), labels, cumulative);
}

}  // namespace attrib::metrics

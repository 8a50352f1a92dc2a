// common/metrics_text_test.cc
#include "common/metrics_text.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attrib::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTextTest, CounterHasHelpTypeAndSample) {
  MetricsText m;
  m.Counter("attrib_x_total", "Things counted.", 42);
  EXPECT_EQ(m.text(),
            "# HELP attrib_x_total Things counted.\n"
            "# TYPE attrib_x_total counter\n"
            "attrib_x_total 42\n");
}

TEST(MetricsTextTest, LabelledSamplesOfOneFamily) {
  MetricsText m;
  m.Family("attrib_requests_total", MetricType::kCounter, "Requests.");
  m.Sample("attrib_requests_total", {{"op", "lookup"}, {"result", "ok"}}, uint64_t{7});
  m.Sample("attrib_requests_total", {{"op", "connect"}, {"result", "invalidArgument"}},
           uint64_t{1});
  EXPECT_EQ(m.text(),
            "# HELP attrib_requests_total Requests.\n"
            "# TYPE attrib_requests_total counter\n"
            "attrib_requests_total{op=\"lookup\",result=\"ok\"} 7\n"
            "attrib_requests_total{op=\"connect\",result=\"invalidArgument\"} 1\n");
}

TEST(MetricsTextTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  MetricsText m;
  m.Family("g", MetricType::kGauge, "line one\nback\\slash \"quotes stay\"");
  m.Sample("g", {{"path", "C:\\x \"y\""}}, 1.5);
  EXPECT_EQ(m.text(),
            "# HELP g line one\\nback\\\\slash \"quotes stay\"\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\x \\\"y\\\"\"} 1.5\n");
}

TEST(MetricsTextTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1e-6), "1e-06");
  EXPECT_EQ(FormatValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(MetricsTextTest, HistogramBucketsAreCumulativeAndEndAtInf) {
  Histogram h;
  h.Record(500);             // <= 1 us
  h.Record(4'000);           // <= 5 us
  h.Record(4'000);           // <= 5 us
  h.Record(30'000'000'000);  // +Inf
  MetricsText m;
  m.Family("lat_seconds", MetricType::kHistogram, "Latency.");
  m.Histogram("lat_seconds", {{"op", "lookup"}}, h.Read());
  const std::string& t = m.text();
  EXPECT_THAT(t, HasSubstr("# TYPE lat_seconds histogram\n"));
  EXPECT_THAT(t, HasSubstr("lat_seconds_bucket{op=\"lookup\",le=\"1e-06\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("lat_seconds_bucket{op=\"lookup\",le=\"2.5e-06\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("lat_seconds_bucket{op=\"lookup\",le=\"5e-06\"} 3\n"));
  EXPECT_THAT(t, HasSubstr("lat_seconds_bucket{op=\"lookup\",le=\"10\"} 3\n"));
  EXPECT_THAT(t, HasSubstr("lat_seconds_bucket{op=\"lookup\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(t, HasSubstr("lat_seconds_sum{op=\"lookup\"} 30.0000085\n"));
  EXPECT_THAT(t, HasSubstr("lat_seconds_count{op=\"lookup\"} 4\n"));
  // Buckets never decrease, and there is one line per bound plus +Inf.
  uint64_t previous = 0;
  size_t buckets = 0;
  for (absl::string_view line : absl::StrSplit(t, '\n')) {
    if (!absl::StartsWith(line, "lat_seconds_bucket")) continue;
    const uint64_t v = std::stoull(std::string(line.substr(line.rfind(' ') + 1)));
    EXPECT_GE(v, previous) << line;
    previous = v;
    ++buckets;
  }
  EXPECT_EQ(buckets, kFiniteBuckets + 1);
}

TEST(MetricsTextTest, UnlabelledHistogram) {
  Histogram h;
  h.Record(2'000'000);
  MetricsText m;
  m.Family("f", MetricType::kHistogram, "F.");
  m.Histogram("f", {}, h.Read());
  EXPECT_THAT(m.text(), HasSubstr("f_bucket{le=\"0.0025\"} 1\n"));
  EXPECT_THAT(m.text(), HasSubstr("f_sum 0.002\n"));
  EXPECT_THAT(m.text(), HasSubstr("f_count 1\n"));
}

}  // namespace
}  // namespace attrib::metrics

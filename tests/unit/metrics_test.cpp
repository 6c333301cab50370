// The metrics registry and its Prometheus text exposition (format 0.0.4).
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "chrysopedia/observability/metrics.hpp"

using namespace chrysopedia::observability;

TEST(Metrics, CountersAndGaugesRenderWithHelpTypeAndLabels) {
  Registry r;
  auto& ok = r.counter("app_requests_total", "Requests.", {{"route", "/x"}, {"status", "200"}});
  auto& bad = r.counter("app_requests_total", "Requests.", {{"route", "/x"}, {"status", "500"}});
  auto& open = r.gauge("app_open", "Open now.");
  ok.inc();
  ok.inc(2);
  bad.inc();
  open.inc();
  open.inc();
  open.dec();
  EXPECT_EQ(&r.counter("app_requests_total", "Requests.", {{"route", "/x"}, {"status", "200"}}),
            &ok)
      << "the same labels are the same series";
  EXPECT_EQ(r.expose(),
            "# HELP app_requests_total Requests.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{route=\"/x\",status=\"200\"} 3\n"
            "app_requests_total{route=\"/x\",status=\"500\"} 1\n"
            "# HELP app_open Open now.\n"
            "# TYPE app_open gauge\n"
            "app_open 1\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumCountAndInf) {
  Registry r;
  auto& h = r.histogram("app_latency_seconds", "Latency.", {0.1, 0.5, 1}, {{"route", "/a"}});
  for (double v : {0.05, 0.1, 0.3, 0.7, 2.0}) h.observe(v);
  EXPECT_EQ(r.expose(),
            "# HELP app_latency_seconds Latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 2\n"
            "app_latency_seconds_bucket{route=\"/a\",le=\"0.5\"} 3\n"
            "app_latency_seconds_bucket{route=\"/a\",le=\"1\"} 4\n"
            "app_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 5\n"
            "app_latency_seconds_sum{route=\"/a\"} 3.15\n"
            "app_latency_seconds_count{route=\"/a\"} 5\n");
}

TEST(Metrics, AnUnlabelledHistogramHasOnlyLe) {
  Registry r;
  r.histogram("h", "H.", {1}).observe(3);
  const auto text = r.expose();
  EXPECT_NE(text.find("h_bucket{le=\"1\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_sum 3\nh_count 1\n"), std::string::npos) << text;
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.counter("c_total", "a \\ b\nc", {{"v", "q\"uote\\back\nline"}}).inc();
  EXPECT_EQ(r.expose(),
            "# HELP c_total a \\\\ b\\nc\n"
            "# TYPE c_total counter\n"
            "c_total{v=\"q\\\"uote\\\\back\\nline\"} 1\n");
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto& c = r.counter("c_total", "C.");
  auto& h = r.histogram("h", "H.", {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(i % 2 ? 0.25 : 1.0);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 80000u);
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 80000u);
  EXPECT_EQ(s.cumulative[0], 40000u);
  EXPECT_DOUBLE_EQ(s.sum, 40000 * 0.25 + 40000 * 1.0);
}

TEST(Metrics, ServiceRequestsAreCountedByRouteAndStatus) {
  Registry r;
  ServiceMetrics m(r);
  m.request("/api/v1/conversations/{id}", 404);
  m.request("/api/v1/conversations/{id}", 404);
  m.request("/api/v1/chat", 200);
  const auto text = r.expose();
  EXPECT_NE(text.find("# TYPE chrysopedia_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("chrysopedia_http_requests_total{route=\"/api/v1/conversations/{id}\","
                      "status=\"404\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("chrysopedia_http_requests_total{route=\"/api/v1/chat\",status=\"200\"} 1\n"),
            std::string::npos)
      << text;
  // A second registry (a second instance on this thread) counts on its own.
  Registry r2;
  ServiceMetrics m2(r2);
  m2.request("/api/v1/chat", 200);
  EXPECT_NE(r2.expose().find("status=\"200\"} 1\n"), std::string::npos);
  EXPECT_NE(r.expose().find("route=\"/api/v1/chat\",status=\"200\"} 1\n"), std::string::npos);
}

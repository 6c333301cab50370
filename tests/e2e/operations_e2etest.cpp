// Operations (SPEC §6) on the real binary: readiness, metrics moving with a
// chat, and a graceful SIGTERM with an answer still streaming.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support/chat_client.hpp"
#include "support/metrics_scrape.hpp"
#include "support/service_process.hpp"
#include "support/sse_parser.hpp"
#include "support/test_database.hpp"
#include "support/test_redis.hpp"
#include "support/waiting.hpp"

using namespace chrysopedia::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

class Operations : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new TestDatabase();
    db_->import(sample_corpus());
  }
  static void TearDownTestSuite() { delete db_; }

  std::map<std::string, std::string> env(const FakeLlmServer* fake, const TestRedis* redis) {
    std::map<std::string, std::string> e = {{"DATABASE_URL", db_->url()}};
    if (fake) e["LLM_API_URL"] = fake->url();
    if (redis) e["REDIS_URL"] = redis->url();
    return e;
  }

  static TestDatabase* db_;
};

TestDatabase* Operations::db_ = nullptr;

RawClient::Response get(std::uint16_t port, const std::string& path) {
  RawClient c(port);
  c.send(make_request("GET", path));
  return c.read_response();
}

bool refuses_connections(std::uint16_t port) {
  try {
    RawClient c(port);
    return false;
  } catch (const std::exception&) {
    return true;
  }
}

}  // namespace

TEST_F(Operations, ReadyWhenPostgresAndRedisAnswerAndNamesWhatIsDown) {
  auto redis = std::make_unique<TestRedis>();
  ServiceProcess service(env(nullptr, redis.get()));
  const auto ready = get(service.port(), "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.header("content-type"), "application/json");
  EXPECT_EQ(json::parse(ready.body), json({{"status", "ready"}}));

  redis.reset();
  const auto started = Clock::now();
  const auto down = get(service.port(), "/readyz");
  EXPECT_LT(Clock::now() - started, 2s) << "a short deadline";
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(json::parse(down.body), json({{"status", "unready"}, {"down", {"redis"}}}));
  EXPECT_EQ(get(service.port(), "/healthz").status, 200) << "alive all the same";
}

TEST_F(Operations, WithoutRedisConfiguredOnlyPostgresCounts) {
  ServiceProcess service(env(nullptr, nullptr));
  EXPECT_EQ(get(service.port(), "/readyz").status, 200);

  auto e = env(nullptr, nullptr);
  e["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/none";
  ServiceProcess no_db(e);
  const auto started = Clock::now();
  const auto down = get(no_db.port(), "/readyz");
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(json::parse(down.body), json({{"status", "unready"}, {"down", {"postgres"}}}));
}

TEST_F(Operations, MetricsMoveWithAChat) {
  FakeLlmServer fake;
  fake.push(openai_stream({"One", " two", " three [1]."}));
  fake.push(error_reply(500, "boom"));
  ServiceProcess service(env(&fake, nullptr));

  const auto before = get(service.port(), "/metrics");
  EXPECT_EQ(before.status, 200);
  EXPECT_EQ(before.header("content-type"), "text/plain; version=0.0.4");
  EXPECT_EQ(metric_sample(before.body, "chrysopedia_tokens_relayed_total"), 0);
  EXPECT_EQ(metric_sample(before.body, "chrysopedia_time_to_first_token_seconds_count"), 0);

  const auto r = post_chat(service.port(), chat_body("sidechain the bass"));
  ASSERT_TRUE(r.find("done"));
  const auto failed = post_chat(service.port(), chat_body("sidechain the bass"));
  ASSERT_TRUE(failed.find("error"));
  get(service.port(), "/api/v1/conversations/first-id");
  get(service.port(), "/api/v1/conversations/second-id");
  get(service.port(), "/no/such/path");

  // A request is counted once its answer is written, so the client may be
  // a moment ahead of the count.
  const std::string chat_200 =
      "chrysopedia_http_requests_total{route=\"/api/v1/chat\",status=\"200\"}";
  const std::string conversations_503 =
      "chrysopedia_http_requests_total{route=\"/api/v1/conversations/{id}\",status=\"503\"}";
  const std::string unmatched_404 =
      "chrysopedia_http_requests_total{route=\"unmatched\",status=\"404\"}";
  std::string after;
  eventually(
      [&] {
        after = get(service.port(), "/metrics").body;
        return metric_sample(after, chat_200) >= 2 &&
               metric_sample(after, conversations_503) >= 2 &&
               metric_sample(after, unmatched_404) >= 1;
      },
      2s);
  EXPECT_EQ(metric_sample(after, "chrysopedia_tokens_relayed_total"), 3) << after;
  EXPECT_EQ(metric_sample(after, "chrysopedia_sse_streams_open"), 0);
  EXPECT_EQ(metric_sample(after, "chrysopedia_upstream_errors_total{upstream=\"llm\"}"), 1);
  EXPECT_EQ(metric_sample(after, "chrysopedia_upstream_errors_total{upstream=\"search\"}"), 0);
  EXPECT_EQ(metric_sample(after, "chrysopedia_time_to_first_token_seconds_count"), 1);
  EXPECT_EQ(metric_sample(after, "chrysopedia_time_to_first_token_seconds_bucket{le=\"+Inf\"}"), 1);
  EXPECT_GT(metric_sample(after, "chrysopedia_time_to_first_token_seconds_sum"), 0);
  EXPECT_EQ(metric_sample(after, "chrysopedia_search_latency_seconds_count"), 2);
  EXPECT_EQ(metric_sample(after, "chrysopedia_stream_duration_seconds_count"), 2);
  EXPECT_EQ(metric_sample(after,
                          "chrysopedia_http_requests_total{route=\"/api/v1/chat\",status=\"200\"}"),
            2);
  // Conversations are counted under their pattern, never their ids.
  EXPECT_EQ(metric_sample(after,
                          "chrysopedia_http_requests_total{route=\"/api/v1/conversations/{id}\","
                          "status=\"503\"}"),
            2)
      << after;
  EXPECT_EQ(after.find("first-id"), std::string::npos);
  EXPECT_EQ(
      metric_sample(after, "chrysopedia_http_requests_total{route=\"unmatched\",status=\"404\"}"),
      1);
  EXPECT_GE(
      metric_sample(after, "chrysopedia_http_requests_total{route=\"/metrics\",status=\"200\"}"),
      1);
}

TEST_F(Operations, AStreamOpenNowIsCounted) {
  FakeLlmServer fake;
  auto hang = openai_stream({"first"}, 0ms, false, "", false);
  hang.end = FakeReply::End::hang;
  fake.push(hang);
  ServiceProcess service(env(&fake, nullptr));
  RawClient c(service.port());
  c.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                      "Content-Type: application/json\r\n"));
  c.read_head();
  std::string seen;
  while (seen.find("event: token") == std::string::npos) seen += *c.read_chunk();
  EXPECT_EQ(metric_sample(get(service.port(), "/metrics").body, "chrysopedia_sse_streams_open"), 1);
  c.close();
  double open = 1;
  eventually(
      [&] {
        open = metric_sample(get(service.port(), "/metrics").body, "chrysopedia_sse_streams_open");
        return open == 0;
      },
      2s);
  EXPECT_EQ(open, 0);
}

TEST_F(Operations, SigtermLetsAnOpenStreamFinishRefusesNewConnectionsAndExitsZero) {
  FakeLlmServer fake;
  std::vector<std::string> deltas;
  for (int i = 0; i < 15; ++i) deltas.push_back(" t" + std::to_string(i));
  fake.push(openai_stream(deltas, 100ms));
  auto e = env(&fake, nullptr);
  e["SHUTDOWN_GRACE_SECONDS"] = "20";
  ServiceProcess service(e);

  RawClient c(service.port());
  c.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                      "Content-Type: application/json\r\n"));
  EXPECT_EQ(c.read_head().status, 200);
  std::string wire;
  while (wire.find("event: token") == std::string::npos) wire += *c.read_chunk();

  service.process().signal(SIGTERM);
  EXPECT_TRUE(eventually([&] { return refuses_connections(service.port()); }, 1s, 10ms))
      << "stopped accepting";

  while (auto chunk = c.read_chunk(5s)) wire += *chunk;
  const auto events = parse_sse(wire);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "done") << wire;
  std::string text;
  for (const auto& ev : events) {
    if (ev.event == "token") text += ev.data;
  }
  EXPECT_EQ(text, " t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t13 t14") << "nothing cut";
  EXPECT_EQ(service.process().wait_exit(5s), 0);
  EXPECT_NE(service.process().output().find("\"stopped"), std::string::npos);
}

TEST_F(Operations, AStreamLongerThanTheGracePeriodIsCutAndTheProcessExitsZero) {
  FakeLlmServer fake;
  std::vector<std::string> deltas(200, " slow");
  fake.push(openai_stream(deltas, 100ms));
  auto e = env(&fake, nullptr);
  e["SHUTDOWN_GRACE_SECONDS"] = "0.5";
  ServiceProcess service(e);

  RawClient c(service.port());
  c.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                      "Content-Type: application/json\r\n"));
  c.read_head();
  std::string wire;
  while (wire.find("event: token") == std::string::npos) wire += *c.read_chunk();

  const auto signalled = Clock::now();
  service.process().signal(SIGTERM);
  EXPECT_EQ(service.process().wait_exit(5s), 0);
  const auto took = Clock::now() - signalled;
  EXPECT_GE(took, 400ms) << "the grace period was given";
  EXPECT_LT(took, 3s) << "and no more than about that";
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(wire.find("event: done"), std::string::npos);
  EXPECT_NE(service.process().output().find("http_shutdown_forced"), std::string::npos);
  // The upstream transfer was abandoned with the stream.
  eventually([&] { return fake.connections_closed_by_client() >= 1; }, 2s, 10ms);
  EXPECT_EQ(fake.connections_closed_by_client(), 1);
}

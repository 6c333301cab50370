// The abuse limits on the real binary: API keys (401, either header, the
// open routes, no key in the logs), the per-client rate limit (429 with
// Retry-After, recovery, X-Forwarded-For only from a trusted proxy) and
// the cap on open streams (503 before any upstream work).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support/chat_client.hpp"
#include "support/service_process.hpp"
#include "support/sse_parser.hpp"
#include "support/test_database.hpp"
#include "support/test_redis.hpp"
#include "support/waiting.hpp"

using namespace chrysopedia::test;
using nlohmann::json;

namespace {

constexpr const char* kKey = "ck-live-7f3a9c2e5b1d4f60a8e2";
constexpr const char* kOtherKey = "ck-live-0b7e1d9c3a5f2e4d6c81";
constexpr const char* kWrongKey = "ck-live-7f3a9c2e5b1d4f60a8e3";

class Limits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new TestDatabase();
    db_->import(sample_corpus());
  }
  static void TearDownTestSuite() { delete db_; }

  std::map<std::string, std::string> env(std::map<std::string, std::string> extra) {
    extra.emplace("DATABASE_URL", db_->url());
    return extra;
  }

  static TestDatabase* db_;
};

TestDatabase* Limits::db_ = nullptr;

RawClient::Response request(std::uint16_t port, const std::string& method, const std::string& path,
                            const std::string& headers = "", const std::string& body = "") {
  RawClient c(port);
  c.send(make_request(method, path, body, headers));
  return c.read_response(30s);
}

RawClient::Response chat(std::uint16_t port, const std::string& headers = "") {
  return request(port, "POST", "/api/v1/chat", "Content-Type: application/json\r\n" + headers,
                 chat_body("sidechain the bass"));
}

std::string last_event(const RawClient::Response& r) {
  const auto events = parse_sse(r.body);
  return events.empty() ? "" : events.back().event;
}

// A chat whose stream stays open: the head and the first token read.
std::unique_ptr<RawClient> open_stream(std::uint16_t port) {
  auto c = std::make_unique<RawClient>(port);
  c->send(make_request("POST", "/api/v1/chat", chat_body("sidechain the bass"),
                       "Content-Type: application/json\r\n"));
  const auto head = c->read_head(10s);
  EXPECT_EQ(head.status, 200);
  std::string seen;
  while (seen.find("event: token") == std::string::npos) seen += *c->read_chunk(10s);
  return c;
}

}  // namespace

TEST_F(Limits, WithKeysTheApiWantsOneInEitherHeader) {
  FakeLlmServer fake;
  fake.set_default(openai_stream({"Duck", " the bass [1]."}));
  ServiceProcess service(env({{"LLM_API_URL", fake.url()},
                              {"CHAT_API_KEYS", std::string(kOtherKey) + "," + kKey},
                              {"CORS_ALLOWED_ORIGINS", "https://app.example.com"},
                              {"LOG_LEVEL", "trace"}}));
  const auto port = service.port();

  const auto none = chat(port);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  EXPECT_EQ(json::parse(none.body)["error"]["code"], "unauthorized") << none.body;
  EXPECT_NE(json::parse(none.body)["error"]["message"].get<std::string>().find("Bearer"),
            std::string::npos);

  const auto wrong = chat(port, "Authorization: Bearer " + std::string(kWrongKey) + "\r\n");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.header("www-authenticate"), "Bearer");
  EXPECT_EQ(chat(port, "X-API-Key: " + std::string(kWrongKey) + "\r\n").status, 401);
  EXPECT_EQ(chat(port, "Authorization: Basic " + std::string(kKey) + "\r\n").status, 401);
  EXPECT_EQ(fake.requests().size(), 0u) << "nothing reached the model";

  const auto bearer = chat(port, "Authorization: Bearer " + std::string(kKey) + "\r\n");
  EXPECT_EQ(bearer.status, 200);
  EXPECT_EQ(last_event(bearer), "done") << bearer.body;
  const auto x_api_key = chat(port, "X-API-Key: " + std::string(kKey) + "\r\n");
  EXPECT_EQ(x_api_key.status, 200);
  EXPECT_EQ(last_event(x_api_key), "done");
  EXPECT_EQ(chat(port, "X-API-Key: " + std::string(kOtherKey) + "\r\n").status, 200)
      << "any of the keys";

  // The conversations API is behind the key too (no Redis here: 503 once in).
  EXPECT_EQ(request(port, "GET", "/api/v1/conversations/abc").status, 401);
  EXPECT_EQ(request(port, "DELETE", "/api/v1/conversations/abc").status, 401);
  EXPECT_EQ(request(port, "GET", "/api/v1/conversations/abc",
                    "Authorization: Bearer " + std::string(kKey) + "\r\n")
                .status,
            503);

  // What stays open.
  EXPECT_EQ(request(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(request(port, "GET", "/readyz").status, 200);
  EXPECT_EQ(request(port, "GET", "/metrics").status, 200);
  EXPECT_EQ(request(port, "GET", "/").status, 200);
  const auto preflight = request(port, "OPTIONS", "/api/v1/chat",
                                 "Origin: https://app.example.com\r\n"
                                 "Access-Control-Request-Method: POST\r\n"
                                 "Access-Control-Request-Headers: content-type, x-api-key\r\n");
  EXPECT_EQ(preflight.status, 204);
  EXPECT_NE(preflight.header("access-control-allow-headers").find("x-api-key"), std::string::npos);
  const auto cors_401 = chat(port, "Origin: https://app.example.com\r\n");
  EXPECT_EQ(cors_401.status, 401);
  EXPECT_EQ(cors_401.header("access-control-allow-origin"), "https://app.example.com")
      << "a page can read why it was refused";

  // The log at its most verbose holds none of the keys, right or wrong.
  service.process().signal(SIGTERM);
  EXPECT_EQ(service.process().wait_exit(10s), 0);
  const std::string log = service.process().output();
  EXPECT_NE(log.find("http_unauthorized"), std::string::npos);
  EXPECT_NE(log.find("CHAT_API_KEYS\\\":\\\"*** (2 keys)"), std::string::npos) << log;
  for (const char* secret : {kKey, kOtherKey, kWrongKey}) {
    // A prefix long enough to mean something, not only the whole key.
    EXPECT_EQ(log.find(std::string(secret).substr(0, 12)), std::string::npos)
        << secret << " in the log:\n"
        << log;
  }
}

TEST_F(Limits, RateLimitAnswers429WithRetryAfterAndRecovers) {
  // One every 2 s, three at once. The burst is spent on cheap requests (no
  // Redis: 503 at once), so a slow build cannot refill it meanwhile.
  ServiceProcess service(env(
      {{"CHAT_RATE_LIMIT_PER_MINUTE", "30"}, {"CHAT_RATE_LIMIT_BURST", "3"}, {"LLM_API_URL", ""}}));
  const auto port = service.port();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(request(port, "GET", "/api/v1/conversations/abc").status, 503) << i;
  }
  const auto limited = chat(port);
  ASSERT_EQ(limited.status, 429) << "chat and conversations share the client's bucket";
  EXPECT_EQ(json::parse(limited.body)["error"]["code"], "rate_limited");
  const int retry_after = std::stoi(limited.header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 2) << "a token every 2 s";
  EXPECT_NE(json::parse(limited.body)["error"]["message"].get<std::string>().find(
                "retry in " + std::to_string(retry_after) + " second"),
            std::string::npos)
      << limited.body;
  EXPECT_EQ(request(port, "GET", "/api/v1/conversations/abc").status, 429);
  EXPECT_EQ(request(port, "GET", "/healthz").status, 200) << "not probes";
  EXPECT_EQ(request(port, "GET", "/metrics").status, 200);

  std::this_thread::sleep_for(std::chrono::seconds(retry_after) + 100ms);
  const auto again = chat(port);
  EXPECT_EQ(again.status, 200) << "refilled after Retry-After";
  EXPECT_EQ(last_event(again), "done");
  EXPECT_EQ(chat(port).status, 429) << "one token refilled, one used";
}

TEST_F(Limits, ForwardedForCountsOnlyFromATrustedProxy) {
  const std::map<std::string, std::string> limits = {
      {"CHAT_RATE_LIMIT_PER_MINUTE", "1"}, {"CHAT_RATE_LIMIT_BURST", "1"}, {"LLM_API_URL", ""}};
  auto trusted_env = env(limits);
  trusted_env["TRUSTED_PROXIES"] = "127.0.0.1";
  ServiceProcess behind_proxy(trusted_env);
  ServiceProcess direct(env(limits));

  const auto xff = [](const char* ip) { return std::string("X-Forwarded-For: ") + ip + "\r\n"; };
  // Behind a trusted proxy each forwarded client has its own bucket.
  EXPECT_EQ(chat(behind_proxy.port(), xff("198.51.100.1")).status, 200);
  EXPECT_EQ(chat(behind_proxy.port(), xff("198.51.100.1")).status, 429);
  const auto other = chat(behind_proxy.port(), xff("198.51.100.2"));
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(chat(behind_proxy.port(), xff("203.0.113.7, 198.51.100.1")).status, 429)
      << "what the client wrote left of the proxy's entry does not count";
  EXPECT_GE(std::stoi(chat(behind_proxy.port(), xff("198.51.100.2")).header("retry-after")), 30);

  // Anyone else's X-Forwarded-For is ignored: one bucket for 127.0.0.1.
  EXPECT_EQ(chat(direct.port(), xff("198.51.100.1")).status, 200);
  EXPECT_EQ(chat(direct.port(), xff("198.51.100.2")).status, 429);
  EXPECT_EQ(chat(direct.port()).status, 429);
}

TEST_F(Limits, StreamsOverTheCapGet503BeforeAnyUpstreamWork) {
  FakeLlmServer fake;
  std::vector<std::string> deltas(15, " slow");
  fake.set_default(openai_stream(deltas, 100ms));
  ServiceProcess service(env({{"LLM_API_URL", fake.url()}, {"CHAT_MAX_STREAMS", "2"}}));
  const auto port = service.port();

  auto first = open_stream(port);
  auto second = open_stream(port);
  const auto over = chat(port);
  EXPECT_EQ(over.status, 503);
  EXPECT_EQ(over.header("retry-after"), "1");
  EXPECT_EQ(json::parse(over.body)["error"]["code"], "overloaded") << over.body;
  EXPECT_EQ(fake.requests().size(), 2u) << "the refused chat never reached the model";
  EXPECT_EQ(request(port, "GET", "/api/v1/conversations/abc").status, 503)
      << "(memory is off here: memory_disabled, not overloaded)";
  EXPECT_EQ(json::parse(request(port, "GET", "/api/v1/conversations/abc").body)["error"]["code"],
            "memory_disabled");

  // The streams under the cap run to their end untouched.
  for (auto* c : {first.get(), second.get()}) {
    std::string wire;
    while (auto chunk = c->read_chunk(10s)) wire += *chunk;
    const auto events = parse_sse(wire);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().event, "done");
  }
  // Their slots are free again (released as the handlers return, a moment
  // after the last chunk).
  EXPECT_TRUE(eventually(
      [&] {
        const auto r = chat(port);
        if (r.status != 200) return false;
        EXPECT_EQ(last_event(r), "done");
        return true;
      },
      3s))
      << "a chat is answered again";
}

TEST_F(Limits, AClientLeavingFreesItsStreamSlot) {
  FakeLlmServer fake;
  auto hang = openai_stream({"first"}, 0ms, false, "", false);
  hang.end = FakeReply::End::hang;
  fake.set_default(hang);
  ServiceProcess service(env({{"LLM_API_URL", fake.url()}, {"CHAT_MAX_STREAMS", "1"}}));
  auto held = open_stream(service.port());
  EXPECT_EQ(chat(service.port()).status, 503);
  held->close();
  EXPECT_TRUE(eventually(
      [&] {
        RawClient c(service.port());
        c.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                            "Content-Type: application/json\r\n"));
        return c.read_head(10s).status == 200;
      },
      3s))
      << "the slot is free again";
}

// Several replicas sharing one Redis (SPEC §11): one bucket per client for
// the fleet, not one per replica; while Redis is away each replica decides
// with its own table and says so in its log and /metrics.
TEST_F(Limits, TheRateLimitIsOneBucketPerClientAcrossReplicas) {
  TestRedis redis;
  const auto settings = env({{"REDIS_URL", redis.url()},
                             {"CHAT_RATE_LIMIT_PER_MINUTE", "1"},
                             {"CHAT_RATE_LIMIT_BURST", "3"}});
  ServiceProcess a(settings);
  ServiceProcess b(settings);
  EXPECT_EQ(request(a.port(), "GET", "/v1/models").status, 200);
  EXPECT_EQ(request(b.port(), "GET", "/v1/models").status, 200);
  EXPECT_EQ(request(a.port(), "GET", "/v1/models").status, 200);
  const auto refused = request(b.port(), "GET", "/v1/models");
  EXPECT_EQ(refused.status, 429) << "the fourth request of a burst of 3, on either replica";
  EXPECT_GE(std::stoi(refused.header("retry-after")), 1);
  EXPECT_NE(request(a.port(), "GET", "/metrics").body.find("chrysopedia_rate_limit_shared 1"),
            std::string::npos);

  redis.stop();
  // Each replica's own table: a fresh burst of 3 on each, then 429.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(request(b.port(), "GET", "/v1/models").status, 200) << i;
  EXPECT_EQ(request(b.port(), "GET", "/v1/models").status, 429);
  EXPECT_NE(request(b.port(), "GET", "/metrics").body.find("chrysopedia_rate_limit_shared 0"),
            std::string::npos);
  EXPECT_NE(b.process().output().find("rate_limit_shared shared=false"), std::string::npos);
}

// The OpenAI-compatible face (SPEC §10) through the binary: real Postgres
// with the sample corpus, the fake model, raw sockets. Its wire format as
// clients parse it, its errors in OpenAI's shape from every layer that can
// refuse (keys, rate limit, body limit, search), and a client that leaves.
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support/raw_client.hpp"
#include "support/service_process.hpp"
#include "support/sse_parser.hpp"
#include "support/test_database.hpp"
#include "support/waiting.hpp"

using namespace chrysopedia::test;
using nlohmann::json;

namespace {

class OpenAiFace : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new TestDatabase();
    db_->import(sample_corpus());
  }
  static void TearDownTestSuite() { delete db_; }

  std::map<std::string, std::string> env(const FakeLlmServer& fake,
                                         std::map<std::string, std::string> extra = {}) {
    extra.emplace("DATABASE_URL", db_->url());
    extra.emplace("LLM_API_URL", fake.url());
    return extra;
  }
  static TestDatabase* db_;
};

TestDatabase* OpenAiFace::db_ = nullptr;

std::string body(const std::string& question, bool stream) {
  return json{{"model", "chrysopedia"},
              {"stream", stream},
              {"stream_options", {{"include_usage", true}}},
              {"messages", {{{"role", "user"}, {"content", question}}}}}
      .dump();
}

RawClient::Response post(std::uint16_t port, const std::string& payload,
                         const std::string& headers = "") {
  RawClient c(port);
  c.send(make_request("POST", "/v1/chat/completions", payload,
                      "Content-Type: application/json\r\n" + headers));
  return c.read_response(30s);
}

// OpenAI's error object, with what its clients read.
void expect_openai_error(const RawClient::Response& r, int status, const std::string& type) {
  EXPECT_EQ(r.status, status) << r.body;
  const auto error = json::parse(r.body)["error"];
  EXPECT_EQ(error["type"], type) << r.body;
  EXPECT_TRUE(error["message"].is_string() && !error["message"].get<std::string>().empty());
  EXPECT_TRUE(error.contains("param"));
  EXPECT_TRUE(error.contains("code"));
}

}  // namespace

TEST_F(OpenAiFace, StreamsChunksOverHttpAndCountsThemByRoute) {
  FakeLlmServer fake;
  fake.set_default(openai_stream({"Duck ", "it [1]", "."}));
  ServiceProcess service(env(fake));
  const auto r = post(service.port(), body("how do I sidechain a bass?", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.at("content-type").rfind("text/event-stream", 0), 0u);
  const auto events = parse_sse(r.body);
  ASSERT_GE(events.size(), 7u);
  std::string text;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].event, "message");
    const auto chunk = json::parse(events[i].data);
    if (!chunk["choices"].empty() && chunk["choices"][0]["delta"].contains("content")) {
      text += chunk["choices"][0]["delta"]["content"].get<std::string>();
    }
  }
  EXPECT_EQ(text, "Duck it [1].");
  EXPECT_EQ(events.back().data, "[DONE]");
  const auto last = json::parse(events[events.size() - 3].data);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(last["citations"][0], "/techniques/sidechain-compression-bass");
  EXPECT_EQ(last["sources"][0]["slug"], "sidechain-compression-bass");
  EXPECT_EQ(json::parse(events[events.size() - 2].data)["usage"]["completion_tokens"], 3);

  // Counted once its answer is written: the client may be a moment ahead.
  const std::string counted =
      "chrysopedia_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 1";
  std::string metrics;
  EXPECT_TRUE(eventually(
      [&] {
        RawClient m(service.port());
        m.send(make_request("GET", "/metrics"));
        metrics = m.read_response().body;
        return metrics.find(counted) != std::string::npos;
      },
      2s))
      << metrics;
}

TEST_F(OpenAiFace, EveryRefusalIsOpenAiShaped) {
  FakeLlmServer fake;
  ServiceProcess service(env(fake, {{"CHAT_API_KEYS", "ck-openai-e2e-key-1234567890"},
                                    {"CHAT_RATE_LIMIT_PER_MINUTE", "1"},
                                    {"CHAT_RATE_LIMIT_BURST", "1"}}));
  const auto port = service.port();
  const std::string key = "Authorization: Bearer ck-openai-e2e-key-1234567890\r\n";
  expect_openai_error(post(port, body("bass", false)), 401, "authentication_error");
  // A body past the limit, before it is read.
  expect_openai_error(post(port, std::string(70000, ' ') + body("bass", false), key), 413,
                      "invalid_request_error");
  const auto bad = post(port, R"({"model":"chrysopedia","messages":[{"role":"tool"}]})", key);
  expect_openai_error(bad, 400, "invalid_request_error");
  EXPECT_EQ(json::parse(bad.body)["error"]["param"], "messages[0].role");
  // The key's one request a minute is spent (the 401 counted against the
  // requests without a key, the 413 was refused before any route): throttled.
  expect_openai_error(post(port, body("bass", false), key), 429, "rate_limit_error");
  EXPECT_TRUE(fake.requests().empty());
}

TEST_F(OpenAiFace, AnUnreachableDatabaseIsA503BeforeAnyByte) {
  FakeLlmServer fake;
  auto e = env(fake);
  e["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/none";
  ServiceProcess service(e);
  for (const bool stream : {true, false}) {
    const auto r = post(service.port(), body("sidechain", stream));
    expect_openai_error(r, 503, "server_error");
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "search_unavailable");
  }
  EXPECT_TRUE(fake.requests().empty());
}

TEST_F(OpenAiFace, AModelFailingMidStreamIsAnErrorChunkNotDone) {
  FakeLlmServer fake;
  auto cut = openai_stream({"Duck ", "it"}, std::chrono::milliseconds(0), false, "", false);
  fake.set_default(cut);  // ends without [DONE] or a finish reason: truncated
  ServiceProcess service(env(fake));
  const auto r = post(service.port(), body("sidechain", true));
  ASSERT_EQ(r.status, 200);
  const auto events = parse_sse(r.body);
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events.back().data, "[DONE]");
  EXPECT_EQ(json::parse(events.back().data)["error"]["code"], "llm_failed");
  const auto whole = post(service.port(), body("sidechain", false));
  expect_openai_error(whole, 502, "server_error");
}

TEST_F(OpenAiFace, AClientThatLeavesStopsTheUpstreamStreamingOrNot) {
  for (const bool stream : {true, false}) {
    FakeLlmServer fake;
    auto hang = openai_stream({"first"}, std::chrono::milliseconds(0), false, "", false);
    hang.end = FakeReply::End::hang;
    fake.push(hang);
    ServiceProcess service(env(fake));
    {
      RawClient c(service.port());
      c.send(make_request("POST", "/v1/chat/completions", body("sidechain", stream),
                          "Content-Type: application/json\r\n"));
      if (stream) {
        c.read_head();
        std::string seen;
        while (seen.find("\"content\":\"first\"") == std::string::npos) seen += *c.read_chunk();
      } else {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (fake.responses_started() < 1 && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
    }
    const auto left = std::chrono::steady_clock::now();
    while (fake.connections_closed_by_client() < 1 &&
           std::chrono::steady_clock::now() - left < std::chrono::seconds(2)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(fake.connections_closed_by_client(), 1) << "stream=" << stream;
    EXPECT_LT(std::chrono::steady_clock::now() - left, std::chrono::seconds(1));
  }
}

TEST_F(OpenAiFace, TheStreamCapCountsBothFaces) {
  FakeLlmServer fake;
  auto hang = openai_stream({"first"}, std::chrono::milliseconds(0), false, "", false);
  hang.end = FakeReply::End::hang;
  fake.set_default(hang);
  ServiceProcess service(env(fake, {{"CHAT_MAX_STREAMS", "1"}}));
  // One answer held open on the chat endpoint...
  RawClient held(service.port());
  held.send(make_request("POST", "/api/v1/chat", R"({"query":"sidechain"})",
                         "Content-Type: application/json\r\n"));
  held.read_head();
  // ...leaves no room for one on the OpenAI face, streamed or not.
  for (const bool stream : {true, false}) {
    const auto r = post(service.port(), body("sidechain", stream));
    expect_openai_error(r, 503, "server_error");
    EXPECT_EQ(r.headers.at("retry-after"), "1");
  }
}

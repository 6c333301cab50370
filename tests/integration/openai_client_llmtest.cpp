// The streaming LLM client over real loopback HTTP against the fake
// upstream: deltas as they come, the request it sends, every failure typed,
// retries before the first token, fallback.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "llm/curl_multi.hpp"
#include "llm/openai_stream_client.hpp"
#include "support/child_process.hpp"
#include "support/openai_client_run.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;

namespace {
class OpenAiClient : public OpenAiTransportTest {};
}  // namespace

CHRYSOPEDIA_BOTH_TRANSPORTS(OpenAiClient);

TEST_P(OpenAiClient, StreamsDeltasAndTheResult) {
  FakeLlmServer fake;
  const auto r = run(options_for(fake.url()));
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(joined(r.deltas), "Hello from the fake.");
  EXPECT_EQ(r.deltas.size(), 4u);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->text, "Hello from the fake.");
  EXPECT_EQ(r.result->finish_reason, "stop");
  ASSERT_TRUE(r.result->usage);
  EXPECT_EQ(r.result->usage->prompt_tokens, 42);
  EXPECT_EQ(r.result->usage->completion_tokens, 4);
}

TEST_P(OpenAiClient, SendsTheRequestTheSpecDescribes) {
  FakeLlmServer fake;
  run(options_for(fake.url()));
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].headers.at("authorization"), "Bearer sk-test-key");
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/json");
  const auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["stream"], true);
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.3);
  EXPECT_EQ(body["max_tokens"], 2048);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["content"], "How do I sidechain?");

  auto no_usage = request();
  no_usage.stream_usage = false;
  run(options_for(fake.url()), no_usage);
  EXPECT_FALSE(nlohmann::json::parse(fake.requests().back().body).contains("stream_options"));
}

TEST_P(OpenAiClient, DeltasArriveAsTheyAreSent) {
  FakeLlmServer fake;
  fake.push(openai_stream({"one", " two", " three"}, std::chrono::milliseconds(250)));
  const auto r = run(options_for(fake.url()));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.arrivals.size(), 3u);
  EXPECT_LT(r.arrivals[0], std::chrono::milliseconds(600));
  EXPECT_GE(r.arrivals[2] - r.arrivals[0], std::chrono::milliseconds(400));
}

TEST_P(OpenAiClient, ANon2xxIsAnHttpErrorWithTheBody) {
  FakeLlmServer fake;
  fake.push(error_reply(401, "Incorrect API key provided"));
  const auto r = run(options_for(fake.url()));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::http_status);
  EXPECT_EQ(r.error->status(), 401);
  EXPECT_NE(r.error->body().find("Incorrect API key"), std::string::npos);
  EXPECT_EQ(fake.requests().size(), 1u) << "401 is not retried";
  EXPECT_EQ(std::string(r.error->what()).find("sk-test-key"), std::string::npos);
}

TEST_P(OpenAiClient, RetriesA429HonouringRetryAfter) {
  FakeLlmServer fake;
  fake.push(error_reply(429, "slow down", {{"Retry-After", "1"}}));
  const auto start = Clock::now();
  const auto r = run(options_for(fake.url()));
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(joined(r.deltas), "Hello from the fake.");
  EXPECT_EQ(fake.requests().size(), 2u);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(950));
}

TEST_P(OpenAiClient, GivesUpAfterTwoRetries) {
  FakeLlmServer fake;
  fake.set_default(error_reply(503, "overloaded"));
  const auto r = run(options_for(fake.url()));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status(), 503);
  EXPECT_EQ(fake.requests().size(), 3u);
}

TEST_P(OpenAiClient, FallsBackToTheSecondUpstream) {
  FakeLlmServer fallback;
  auto options = options_for("http://127.0.0.1:1/v1");  // nobody listens
  options.fallback_url = fallback.url();
  const auto r = run(options);
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(joined(r.deltas), "Hello from the fake.");
  EXPECT_EQ(fallback.requests().size(), 1u);
}

TEST_P(OpenAiClient, ARefusedConnectionIsAConnectError) {
  auto options = options_for("http://127.0.0.1:1/v1");
  const auto r = run(options);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::connect);
}

TEST_P(OpenAiClient, ADropMidStreamIsTruncatedAfterTheDeltasSoFar) {
  FakeLlmServer fake;
  auto reply = openai_stream({"partial", " answer"}, 0ms, false, "", false);
  reply.end = FakeReply::End::drop;
  fake.push(reply);
  const auto r = run(options_for(fake.url()));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::truncated);
  EXPECT_EQ(fake.requests().size(), 1u) << "no retry once tokens have flowed";
}

TEST_P(OpenAiClient, AnUpstreamClosingWithItsLastBytesIsTruncatedAtOnce) {
  FakeLlmServer fake;
  // The last bytes and the close in one segment, while the client waits to
  // read: the end must be read behind the bytes, not waited for.
  auto reply = openai_stream({"partial", " answer"}, 50ms, false, "", false);
  reply.end = FakeReply::End::close;
  fake.push(reply);
  auto options = options_for(fake.url());
  options.idle_timeout = std::chrono::seconds(10);
  const auto start = Clock::now();
  const auto r = run(options);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::truncated) << r.error->what();
  EXPECT_EQ(joined(r.deltas), "partial answer");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST_P(OpenAiClient, AnErrorChunkFailsTheCompletion) {
  FakeLlmServer fake;
  auto reply = openai_stream({"a"}, 0ms, false, "", false);
  reply.chunks.push_back(
      {0ms, "data: {\"error\": {\"message\": \"context length exceeded\"}}\n\n"});
  fake.push(reply);
  const auto r = run(options_for(fake.url()));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::upstream);
  EXPECT_NE(std::string(r.error->what()).find("context length exceeded"), std::string::npos);
}

TEST_P(OpenAiClient, AFinishReasonWithoutDoneIsComplete) {
  FakeLlmServer fake;
  fake.push(openai_stream({"done", " anyway"}, 0ms, false, "stop", false));
  const auto r = run(options_for(fake.url()));
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(r.result->finish_reason, "stop");
  EXPECT_FALSE(r.result->usage);
}

TEST_P(OpenAiClient, NeitherDoneNorFinishReasonIsTruncated) {
  FakeLlmServer fake;
  fake.push(openai_stream({"cut"}, 0ms, false, "", false));
  const auto r = run(options_for(fake.url()));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::truncated);
}

TEST_P(OpenAiClient, SilencePastTheIdleTimeoutIsATimeout) {
  FakeLlmServer fake;
  auto reply = openai_stream({"first"}, 0ms, false, "", false);
  reply.end = FakeReply::End::hang;
  fake.push(reply);
  auto options = options_for(fake.url());
  options.idle_timeout = std::chrono::milliseconds(1000);
  const auto start = Clock::now();
  const auto r = run(options);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::timeout);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST_P(OpenAiClient, AHugeLineIsAProtocolErrorNotMemory) {
  FakeLlmServer fake;
  FakeReply reply;
  reply.chunks.push_back({0ms, "data: {\"x\": \"" + std::string(3 * 1024 * 1024, 'a')});
  reply.end = FakeReply::End::hang;
  fake.push(reply);
  const auto r = run(options_for(fake.url()));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::protocol);
}

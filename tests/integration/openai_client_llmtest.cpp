// The streaming LLM client over real loopback HTTP against the fake
// upstream: deltas as they come, every failure typed, retries before the
// first token, fallback, cancellation, and many streams on one loop.
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

using namespace chrysopedia;
using namespace chrysopedia::test;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

llm::CompletionRequest request(const std::string& user = "How do I sidechain?") {
  llm::CompletionRequest r;
  r.model = "test-model";
  r.messages = {{"system", "You are Chrysopedia."}, {"user", user}};
  return r;
}

// Every test runs twice: plain http:// on the loop's own sockets (what the
// service uses for it) and through libcurl (what https:// uses).
bool g_curl_only = false;

llm::OpenAiOptions options_for(const std::string& url) {
  llm::OpenAiOptions o;
  o.curl_only = g_curl_only;
  o.url = url;
  o.api_key = "sk-test-key";
  o.retry_base = std::chrono::milliseconds(10);
  o.connect_timeout = std::chrono::milliseconds(2000);
  return o;
}

struct Run {
  std::vector<std::string> deltas;
  std::vector<Clock::duration> arrivals;  // since start
  std::optional<llm::CompletionResult> result;
  std::optional<llm::LlmError> error;
};

Run run(const llm::OpenAiOptions& options, const llm::CompletionRequest& req = request()) {
  net::io_context ctx;
  llm::CurlMulti multi(ctx);
  llm::OpenAiStreamClient client(multi, options);
  Run out;
  const auto start = Clock::now();
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        auto stream = client.start(req);
        try {
          while (auto delta = co_await stream->next()) {
            out.deltas.push_back(*delta);
            out.arrivals.push_back(Clock::now() - start);
          }
          out.result = stream->result();
        } catch (const llm::LlmError& e) {
          out.error = e;
        }
      },
      net::detached);
  ctx.run();
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x;
  return s;
}

class OpenAiClient : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { g_curl_only = GetParam(); }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Transports, OpenAiClient, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "curl" : "native");
                         });

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

TEST_P(OpenAiClient, CancellingClosesTheUpstreamConnectionAtOnce) {
  FakeLlmServer fake;
  auto reply = openai_stream({"first"}, 0ms, false, "", false);
  reply.end = FakeReply::End::hang;
  fake.push(reply);
  net::io_context ctx;
  llm::CurlMulti multi(ctx);
  llm::OpenAiStreamClient client(multi, options_for(fake.url()));
  net::cancellation_signal cancel;
  bool aborted = false;
  Clock::time_point cancelled_at;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        auto stream = client.start(request());
        try {
          while (auto d = co_await stream->next()) {
            cancelled_at = Clock::now();
            cancel.emit(net::cancellation_type::terminal);
          }
        } catch (const boost::system::system_error& e) {
          aborted = e.code() == net::error::operation_aborted;
        }
      },
      net::bind_cancellation_slot(cancel.slot(), net::detached));
  ctx.run();
  EXPECT_TRUE(aborted);
  while (fake.connections_closed_by_client() < 1 && Clock::now() - cancelled_at < 2s) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(fake.connections_closed_by_client(), 1);
  EXPECT_LT(Clock::now() - cancelled_at, 1s);
}

TEST_P(OpenAiClient, ConnectionsAreReused) {
  FakeLlmServer fake;
  net::io_context ctx;
  llm::CurlMulti multi(ctx);
  llm::OpenAiStreamClient client(multi, options_for(fake.url()));
  int completed = 0;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < 5; ++i) {
          auto stream = client.start(request());
          while (co_await stream->next()) {
          }
          ++completed;
        }
      },
      net::detached);
  ctx.run();
  EXPECT_EQ(completed, 5);
  EXPECT_EQ(fake.connections_accepted(), 1);
}

TEST_P(OpenAiClient, TwoHundredConcurrentStreamsOnOneLoopEachGetTheirOwnDeltas) {
  FakeLlmServer fake;
  fake.set_handler([](const RecordedRequest& req) {
    const auto body = nlohmann::json::parse(req.body);
    const std::string id = body["messages"][1]["content"];
    std::vector<std::string> deltas;
    for (int i = 0; i < 20; ++i) deltas.push_back(id + ":" + std::to_string(i) + " ");
    return openai_stream(deltas, std::chrono::milliseconds(5));
  });
  net::io_context ctx;
  llm::CurlMulti multi(ctx);
  llm::OpenAiStreamClient client(multi, options_for(fake.url()));
  int correct = 0;
  for (int n = 0; n < 200; ++n) {
    net::co_spawn(
        ctx,
        [&, n]() -> net::awaitable<void> {
          const auto req = request("stream-" + std::to_string(n));
          auto stream = client.start(req);
          std::string text;
          while (auto d = co_await stream->next()) text += *d;
          std::string expected;
          for (int i = 0; i < 20; ++i)
            expected += "stream-" + std::to_string(n) + ":" + std::to_string(i) + " ";
          if (text == expected) ++correct;
        },
        net::detached);
  }
  // Bounded, so a stall reports instead of hanging. Once every stream is
  // done the loop must run out of work by itself: no wait may outlive
  // curl's interest in its socket (idle pooled connections included).
  ctx.run_for(std::chrono::seconds(30));
  EXPECT_EQ(correct, 200) << "fake: " << fake.requests().size() << " requests, "
                          << fake.responses_started() << " responses begun, "
                          << fake.responses_finished() << " finished";
  EXPECT_TRUE(ctx.stopped()) << "work was left on the loop after every stream ended";
}

TEST_P(OpenAiClient, TlsCertificatesAreVerified) {
  // A real TLS server with a self-signed certificate: the client must
  // refuse it rather than talk to whoever answers.
  char dir[] = "/tmp/chrysopedia-tls-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  const std::string d = dir;
  ASSERT_EQ(std::system(
                ("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
                 d + "/key.pem -out " + d + "/cert.pem >/dev/null 2>&1")
                    .c_str()),
            0);
  int port = 0;
  {
    net::io_context probe;
    net::ip::tcp::acceptor a(probe, {net::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  ChildProcess server(
      {"/usr/bin/openssl", "s_server", "-quiet", "-accept", "127.0.0.1:" + std::to_string(port),
       "-cert", d + "/cert.pem", "-key", d + "/key.pem"},
      {});
  std::this_thread::sleep_for(300ms);
  auto options = options_for("https://127.0.0.1:" + std::to_string(port) + "/v1");
  options.max_retries = 0;
  const auto r = run(options);
  std::system(("rm -rf " + d).c_str());
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::connect) << r.error->what();
  EXPECT_NE(std::string(r.error->what()).find("certificate"), std::string::npos) << r.error->what();
}

TEST_P(OpenAiClient, TheTotalCapEndsAStreamThatNeverFinishes) {
  FakeLlmServer fake;
  std::vector<std::string> many(100, "tick ");
  fake.push(openai_stream(many, std::chrono::milliseconds(50)));
  auto options = options_for(fake.url());
  options.total_timeout = std::chrono::milliseconds(600);
  const auto start = Clock::now();
  const auto r = run(options);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind(), llm::LlmError::Kind::timeout);
  EXPECT_GT(r.deltas.size(), 3u);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

TEST_P(OpenAiClient, AnUnresolvableHostFailsPromptly) {
  auto options = options_for("http://nonexistent.invalid/v1");
  options.max_retries = 0;
  const auto start = Clock::now();
  const auto r = run(options);
  ASSERT_TRUE(r.error);
  EXPECT_TRUE(r.error->kind() == llm::LlmError::Kind::connect ||
              r.error->kind() == llm::LlmError::Kind::timeout)
      << r.error->what();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST_P(OpenAiClient, AStreamArrivingAllAtOnceIsReadToTheEnd) {
  // Half a megabyte in one burst: curl reads it a buffer at a time, and
  // Asio's reactor signals readiness only once (edge-triggered).
  FakeLlmServer fake;
  std::vector<std::string> deltas(5000, std::string(90, 'y'));
  fake.push(openai_stream(deltas));
  const auto start = Clock::now();
  const auto r = run(options_for(fake.url()));
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(r.deltas.size(), 5000u);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST_P(OpenAiClient, ASlowConsumerPausesTheUpstreamAndLosesNothing) {
  // 600 KB at once while the consumer looks away: past 256 KiB waiting the
  // upstream is no longer read (paused), and what was held back comes after.
  FakeLlmServer fake;
  std::vector<std::string> deltas;
  for (int i = 0; i < 6000; ++i) deltas.push_back("<" + std::to_string(i) + std::string(90, 'z'));
  fake.push(openai_stream(deltas));
  net::io_context ctx;
  llm::CurlMulti multi(ctx);
  llm::OpenAiStreamClient client(multi, options_for(fake.url()));
  std::vector<std::string> got;
  std::string failure;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        auto stream = client.start(request());
        net::steady_timer look_away(ctx, std::chrono::milliseconds(500));
        co_await look_away.async_wait(net::use_awaitable);
        try {
          while (auto d = co_await stream->next()) got.push_back(*d);
        } catch (const std::exception& e) {
          failure = e.what();
        }
      },
      net::detached);
  ctx.run();
  EXPECT_EQ(failure, "");
  ASSERT_EQ(got.size(), deltas.size());
  EXPECT_EQ(got, deltas);
}

namespace {

// A keep-alive server that answers one request per connection and then
// closes it while the client holds it idle in its pool.
class ClosingServer {
 public:
  explicit ClosingServer(std::string interim = "")
      : acceptor_(ctx_, {net::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, interim] {
      for (int i = 0; i < 2; ++i) {
        net::ip::tcp::socket s(ctx_);
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec) return;
        ++accepted;
        std::string in;
        char buf[4096];
        std::size_t need = std::string::npos;
        while (need == std::string::npos || in.size() < need) {
          const auto n = s.read_some(net::buffer(buf), ec);
          if (ec) break;
          in.append(buf, n);
          const auto end = in.find("\r\n\r\n");
          if (end != std::string::npos && need == std::string::npos) {
            const auto cl = in.find("Content-Length: ");
            need = end + 4 + std::stoul(in.substr(cl + 16));
          }
        }
        const std::string body =
            "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"
            "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            "data: [DONE]\n\n";
        const std::string reply = interim +
                                  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                  "Content-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body;
        net::write(s, net::buffer(reply), ec);
        if (i == 0) {
          std::this_thread::sleep_for(100ms);
          s.close(ec);
        } else {
          std::this_thread::sleep_for(500ms);
        }
      }
    });
  }
  ~ClosingServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1";
  }
  std::atomic<int> accepted{0};

 private:
  net::io_context ctx_;
  net::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace

TEST(NativeHttp, APooledConnectionTheServerClosedIsReplaced) {
  ClosingServer server;
  net::io_context ctx;
  llm::CurlMulti multi(ctx);
  auto options = options_for(server.url());
  options.max_retries = 0;  // the pool, not a retry, must recover
  options.curl_only = false;
  llm::OpenAiStreamClient client(multi, options);
  std::vector<std::string> texts;
  std::string failure;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        try {
          for (int i = 0; i < 2; ++i) {
            auto stream = client.start(request());
            std::string text;
            while (auto d = co_await stream->next()) text += *d;
            texts.push_back(text);
            net::steady_timer idle(ctx, std::chrono::milliseconds(300));
            co_await idle.async_wait(net::use_awaitable);
          }
        } catch (const std::exception& e) {
          failure = e.what();
        }
      },
      net::detached);
  ctx.run();
  EXPECT_EQ(failure, "");
  EXPECT_EQ(texts, (std::vector<std::string>{"hi", "hi"}));
  EXPECT_EQ(server.accepted, 2);
}

TEST(NativeHttp, AnInterimResponseBeforeTheAnswerIsSkipped) {
  ClosingServer server(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n");
  auto options = options_for(server.url());
  options.curl_only = false;
  const auto r = run(options);
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(joined(r.deltas), "hi");
}

// The streaming client's connections: cancelled at once, reused, many
// streams on one loop, TLS verified, time caps, and a slow consumer that
// pauses the upstream without losing a byte.
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
class OpenAiConnections : public OpenAiTransportTest {};
}  // namespace

CHRYSOPEDIA_BOTH_TRANSPORTS(OpenAiConnections);

TEST_P(OpenAiConnections, CancellingClosesTheUpstreamConnectionAtOnce) {
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

TEST_P(OpenAiConnections, ConnectionsAreReused) {
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

TEST_P(OpenAiConnections, TwoHundredConcurrentStreamsOnOneLoopEachGetTheirOwnDeltas) {
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

TEST_P(OpenAiConnections, TlsCertificatesAreVerified) {
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

TEST_P(OpenAiConnections, TheTotalCapEndsAStreamThatNeverFinishes) {
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

TEST_P(OpenAiConnections, AnUnresolvableHostFailsPromptly) {
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

TEST_P(OpenAiConnections, AStreamArrivingAllAtOnceIsReadToTheEnd) {
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

// Reads start small (a paced stream's next token is a few hundred bytes) and
// grow while each fills its buffer: an event many reads long, between
// paced ones, still arrives whole and in order.
TEST_P(OpenAiConnections, AnEventLongerThanAReadArrivesWholeAmongPacedOnes) {
  FakeLlmServer fake;
  std::string long_delta;
  for (int i = 0; long_delta.size() < 40000; ++i) long_delta += std::to_string(i) + ' ';
  const std::vector<std::string> deltas{"first ", long_delta, " then", " paced", " again"};
  fake.push(openai_stream(deltas, 20ms));
  const auto r = run(options_for(fake.url()));
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(r.deltas, deltas);
}

TEST_P(OpenAiConnections, ASlowConsumerPausesTheUpstreamAndLosesNothing) {
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

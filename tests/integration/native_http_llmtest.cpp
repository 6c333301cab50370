// The native HTTP client's own cases: a pooled connection the server closed,
// and interim (1xx) answers before the real one.
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
#include "support/blocking_request_read.hpp"
#include "support/child_process.hpp"
#include "support/openai_client_run.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;

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
        read_one_request(s, ec);
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

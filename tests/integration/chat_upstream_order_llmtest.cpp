// A chat's request to the model leaves before its sources are written to
// the client: the first token waits for the model, not for our writes.
#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "chat/chat_service.hpp"
#include "fakes/fake_exchange.hpp"
#include "fakes/fake_search_client.hpp"
#include "fakes/fake_stream_journal.hpp"
#include "history/no_history_store.hpp"
#include "llm/curl_multi.hpp"
#include "llm/openai_stream_client.hpp"
#include "support/blocking_request_read.hpp"
#include "support/openai_client_run.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;

namespace {

// A keep-alive upstream on one connection that answers its first request
// at once and reads the second only when released, so that a test can see
// whether the second had arrived by some moment.
class HeldUpstream {
 public:
  HeldUpstream() : acceptor_(ctx_, {net::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~HeldUpstream() {
    release();
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1";
  }
  // Whether bytes wait unread on the connection within `wait`.
  bool request_waiting(std::chrono::milliseconds wait) const {
    pollfd p{fd_.load(), POLLIN, 0};
    return p.fd >= 0 && ::poll(&p, 1, static_cast<int>(wait.count())) == 1;
  }
  void release() {
    if (!released_.exchange(true)) go_.set_value();
  }
  // Whether a second connection waits to be accepted: the pool did not
  // keep the first, so the test's premise failed, not the order it tests.
  bool connection_waiting() const {
    pollfd p{listener_fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }

 private:
  void serve() {
    net::ip::tcp::socket s(ctx_);
    boost::system::error_code ec;
    acceptor_.accept(s, ec);
    if (ec) return;
    fd_ = s.native_handle();
    for (int i = 0; i < 2; ++i) {
      if (i == 1) go_future_.wait();
      read_one_request(s, ec);
      if (ec) return;
      const std::string body =
          "data: {\"choices\":[{\"delta\":{\"content\":\"Duck it [1].\"}}]}\n\n"
          "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
          "data: [DONE]\n\n";
      const std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      net::write(s, net::buffer(reply), ec);
      if (ec) return;
    }
    // Held open until the client is done with it.
    char b;
    s.read_some(net::buffer(&b, 1), ec);
  }

  net::io_context ctx_;
  net::ip::tcp::acceptor acceptor_;
  int listener_fd_ = acceptor_.native_handle();
  std::atomic<int> fd_{-1};
  std::promise<void> go_;
  std::shared_future<void> go_future_{go_.get_future().share()};
  std::atomic<bool> released_{false};
  std::thread thread_;
};

}  // namespace

TEST(ChatUpstreamOrder, TheModelsRequestIsSentBeforeTheSourcesAreWritten) {
  HeldUpstream upstream;
  config::Settings settings;
  FakeSearchClient search;
  search.result = {{{"Sidechaining a bass", "sidechain-bass", "Kara", "mixing",
                     "Duck the bass under the kick.", "", ""}},
                   "global",
                   ""};
  history::NoHistoryStore no_memory;
  FakeStreamJournal journal;
  net::io_context ctx;
  llm::CurlMulti multi(ctx);
  auto options = options_for(upstream.url());
  options.curl_only = false;  // the loop's own sockets, as http:// is served
  llm::OpenAiStreamClient client(multi, options);
  chat::ChatService service{settings, [&] {
                              return chat::ChatPeers{&search, &no_memory, &client, &journal};
                            }};

  // The first chat leaves its connection in the pool; the second's request
  // goes out on it at once, with nothing to wait for but our loop's turn.
  FakeExchange first, second;
  std::optional<bool> sent_before_sources;
  bool new_connection = false;
  second.on_send = [&](std::string_view event) {
    if (event != "sources") return;
    // The loop is held here: a request not yet written cannot arrive now.
    sent_before_sources = upstream.request_waiting(std::chrono::milliseconds(300));
    new_connection = upstream.connection_waiting();
    upstream.release();
  };
  std::exception_ptr error;
  for (FakeExchange* ex : {&first, &second}) {
    ex->req.method = "POST";
    ex->req.path = ex->req.target = "/api/v1/chat";
    ex->req.headers = {{"content-type", "application/json"}};
    ex->req.body = R"({"query":"how do I sidechain a bass?"})";
    ex->req.request_id = "test-rid";
  }
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        co_await service.chat(first);
        // A few turns of the loop, so that whatever the first chat's end
        // left to do (the connection back in the pool) is done.
        for (int i = 0; i < 4; ++i) co_await net::post(ctx, net::use_awaitable);
        co_await service.chat(second);
      },
      [&error](std::exception_ptr e) { error = std::move(e); });
  ctx.run();
  upstream.release();
  ASSERT_FALSE(error);
  EXPECT_EQ(first.names(), (std::vector<std::string>{"sources", "token", "done"}));
  EXPECT_EQ(second.names(), (std::vector<std::string>{"sources", "token", "done"}));
  ASSERT_TRUE(sent_before_sources);
  ASSERT_FALSE(new_connection) << "the second chat did not reuse the first's connection";
  EXPECT_TRUE(*sent_before_sources) << "the model's request had left when the sources were written";
}

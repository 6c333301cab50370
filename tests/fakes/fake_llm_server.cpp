#include "fakes/fake_llm_server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cmath>
#include <deque>
#include <iterator>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "common/send_now.hpp"

namespace chrysopedia::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

FakeReply openai_stream(const std::vector<std::string>& deltas, std::chrono::milliseconds gap,
                        bool done, const std::string& finish_reason, bool usage) {
  FakeReply r;
  auto chunk = [](const nlohmann::json& j) { return "data: " + j.dump() + "\n\n"; };
  r.chunks.push_back({0ms, chunk({{"id", "chatcmpl-fake"},
                                  {"object", "chat.completion.chunk"},
                                  {"choices",
                                   {{{"index", 0},
                                     {"delta", {{"role", "assistant"}, {"content", ""}}},
                                     {"finish_reason", nullptr}}}}})});
  for (const auto& d : deltas) {
    r.chunks.push_back(
        {gap,
         chunk({{"id", "chatcmpl-fake"},
                {"object", "chat.completion.chunk"},
                {"choices",
                 {{{"index", 0}, {"delta", {{"content", d}}}, {"finish_reason", nullptr}}}}})});
  }
  if (!finish_reason.empty()) {
    r.chunks.push_back({0ms, chunk({{"id", "chatcmpl-fake"},
                                    {"object", "chat.completion.chunk"},
                                    {"choices",
                                     {{{"index", 0},
                                       {"delta", nlohmann::json::object()},
                                       {"finish_reason", finish_reason}}}}})});
  }
  if (usage) {
    r.chunks.push_back({0ms, chunk({{"id", "chatcmpl-fake"},
                                    {"object", "chat.completion.chunk"},
                                    {"choices", nlohmann::json::array()},
                                    {"usage",
                                     {{"prompt_tokens", 42},
                                      {"completion_tokens", static_cast<int>(deltas.size())},
                                      {"total_tokens", 42 + static_cast<int>(deltas.size())}}}})});
  }
  if (done) r.chunks.push_back({0ms, "data: [DONE]\n\n"});
  return r;
}

FakeReply error_reply(int status, const std::string& message,
                      std::vector<std::pair<std::string, std::string>> headers) {
  FakeReply r;
  r.status = status;
  r.headers = std::move(headers);
  r.chunks.push_back({0ms, nlohmann::json({{"error", {{"message", message}}}}).dump()});
  return r;
}

std::vector<float> fake_embedding(std::string_view text, int dimension) {
  static const std::set<std::string, std::less<>> kSkipped = {
      "a",  "an", "and", "the",  "of",   "to",  "in",  "on", "for",  "how",  "do", "i",
      "my", "is", "it",  "what", "with", "can", "you", "me", "this", "that", "be"};
  std::vector<float> v(static_cast<std::size_t>(dimension), 0.0f);
  std::string word;
  const auto add = [&] {
    if (word.size() > 3 && word.back() == 's') word.pop_back();
    if (!word.empty() && !kSkipped.count(word)) {
      // FNV-1a of the word picks its direction: 16 signed coordinates, so
      // that a benchmark can embed 400,000 documents in seconds.
      std::uint64_t h = 1469598103934665603ull;
      for (char c : word) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
      for (int k = 0; k < 16; ++k) {
        h ^= h << 13, h ^= h >> 7, h ^= h << 17;
        v[h % v.size()] += (h >> 63) ? 1.0f : -1.0f;
      }
    }
    word.clear();
  };
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      add();
    }
  }
  add();
  double norm = 0;
  for (float x : v) norm += double{x} * x;
  if (norm > 0) {
    for (auto& x : v) x = static_cast<float>(x / std::sqrt(norm));
  }
  return v;
}

FakeReply embeddings_reply(const RecordedRequest& request, int dimension,
                           const std::function<std::string(const std::string&)>& rewrite) {
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.contains("input")) {
    return error_reply(400, "the fake wants {\"input\": [...]}");
  }
  std::vector<std::string> inputs;
  if (body["input"].is_string()) {
    inputs.push_back(body["input"].get<std::string>());
  } else {
    for (const auto& i : body["input"]) inputs.push_back(i.get<std::string>());
  }
  nlohmann::json data = nlohmann::json::array();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string text = rewrite ? rewrite(inputs[i]) : inputs[i];
    data.push_back(
        {{"object", "embedding"}, {"index", i}, {"embedding", fake_embedding(text, dimension)}});
  }
  FakeReply reply;
  reply.chunks.push_back(
      {std::chrono::milliseconds(0),
       nlohmann::json{{"object", "list"}, {"data", data}, {"model", body.value("model", "fake")}}
           .dump()});
  return reply;
}

struct FakeLlmServer::Impl {
  net::io_context ctx;
  tcp::acceptor acceptor{ctx};
  std::thread thread;
  mutable std::mutex mutex;
  std::deque<FakeReply> queue;
  FakeReply fallback = openai_stream({"Hello", " from", " the", " fake."});
  std::function<FakeReply(const RecordedRequest&)> handler;
  std::function<FakeReply(const RecordedRequest&)> embeddings_handler =
      [](const RecordedRequest& r) { return embeddings_reply(r, 64); };
  std::vector<RecordedRequest> embeddings_recorded;
  std::vector<RecordedRequest> recorded;
  std::size_t record_limit = 0;  // 0: every request
  std::atomic<int> accepted{0};
  std::atomic<int> closed_by_client{0};
  std::atomic<int> started{0};
  std::atomic<int> finished{0};

  FakeReply next_reply(const RecordedRequest& req) {
    std::lock_guard lock(mutex);
    if (req.target.ends_with("/embeddings")) {
      embeddings_recorded.push_back(req);
      return embeddings_handler(req);
    }
    recorded.push_back(req);
    if (record_limit != 0 && recorded.size() > 2 * record_limit) {
      recorded.erase(recorded.begin(), recorded.end() - static_cast<std::ptrdiff_t>(record_limit));
    }
    if (!queue.empty()) {
      FakeReply r = std::move(queue.front());
      queue.pop_front();
      return r;
    }
    return handler ? handler(req) : fallback;
  }

  std::string stats_json() {
    nlohmann::json bodies = nlohmann::json::array();
    {
      std::lock_guard lock(mutex);
      for (const auto& r : recorded) bodies.push_back(r.body);
    }
    return nlohmann::json{{"connections_accepted", accepted.load()},
                          {"connections_closed_by_client", closed_by_client.load()},
                          {"responses_started", started.load()},
                          {"responses_finished", finished.load()},
                          {"request_bodies", bodies}}
        .dump();
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      ++accepted;
      // Without this, Nagle's algorithm and delayed ACKs hold small chunks
      // back ~40 ms: the fake would look slower than any real upstream.
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      net::co_spawn(ctx, serve(std::move(socket)), net::detached);
    }
  }

  // Watches a connection the fake is holding open ("hang"): returns when the
  // client closes it.
  net::awaitable<void> wait_for_close(tcp::socket& socket) {
    char byte;
    for (;;) {
      auto [ec, n] = co_await socket.async_read_some(net::buffer(&byte, 1), use_tuple);
      if (ec) co_return;
    }
  }

  net::awaitable<void> serve(tcp::socket socket) {
    std::string buffer;
    for (;;) {
      auto [ec, n] = co_await net::async_read_until(socket, net::dynamic_buffer(buffer), "\r\n\r\n",
                                                    use_tuple);
      if (ec) {
        if (ec == net::error::eof || ec == net::error::connection_reset) ++closed_by_client;
        co_return;
      }
      RecordedRequest req;
      const std::string head = buffer.substr(0, n);
      buffer.erase(0, n);
      std::size_t pos = head.find("\r\n");
      const std::string request_line = head.substr(0, pos);
      req.method = request_line.substr(0, request_line.find(' '));
      req.target = request_line.substr(req.method.size() + 1,
                                       request_line.rfind(' ') - req.method.size() - 1);
      while (pos + 2 < head.size()) {
        const auto end = head.find("\r\n", pos + 2);
        const std::string line = head.substr(pos + 2, end - pos - 2);
        pos = end;
        if (line.empty()) break;
        const auto colon = line.find(':');
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        req.headers[name] = value;
      }
      const std::size_t length =
          req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
      if (buffer.size() < length) {
        auto [rec, rn] =
            co_await net::async_read(socket, net::dynamic_buffer(buffer),
                                     net::transfer_exactly(length - buffer.size()), use_tuple);
        if (rec) co_return;
      }
      req.body = buffer.substr(0, length);
      buffer.erase(0, length);

      if (req.method == "GET" && req.target == "/_fake/stats") {
        // For tests in other processes (the browser test) to see what the
        // service asked and whether it hung up.
        const std::string body = stats_json();
        const std::string out = fmt::format(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            body.size(), body);
        if (auto [wec, wn] = co_await net::async_write(socket, net::buffer(out), use_tuple); wec) {
          co_return;
        }
        continue;
      }
      const FakeReply reply = next_reply(req);
      ++started;
      std::string out =
          fmt::format("HTTP/1.1 {} Fake\r\nTransfer-Encoding: chunked\r\n", reply.status);
      out += reply.status == 200 ? "Content-Type: text/event-stream\r\n"
                                 : "Content-Type: application/json\r\n";
      for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
      out += "\r\n";
      if (auto [wec, wn] = co_await net::async_write(socket, net::buffer(out), use_tuple); wec) {
        co_return;
      }
      // Thousands of these streams share one core in the benchmarks, and
      // the machine with the service they measure: one timer per
      // connection, and each chunk sent at once when the socket takes it.
      net::steady_timer pause(ctx);
      std::string framed;
      for (const auto& chunk : reply.chunks) {
        if (chunk.delay.count() > 0) {
          pause.expires_after(chunk.delay);
          co_await pause.async_wait(use_tuple);
        } else {
          // No gap: still one chunk per turn of the loop, the other
          // streams' between, as when each write's completion was awaited
          // (sent all at once, an answer would reach the service in a few
          // reads, and the throughput benchmark would measure that instead).
          co_await net::post(ctx, net::use_awaitable);
        }
        if (chunk.bytes.empty()) continue;
        framed.clear();
        fmt::format_to(std::back_inserter(framed), "{:x}\r\n{}\r\n", chunk.bytes.size(),
                       chunk.bytes);
        if (reply.end == FakeReply::End::close && &chunk == &reply.chunks.back()) {
          // Held back (MSG_MORE) and sent with the end: the client finds
          // both in one read, with no readiness event for the end alone.
          ::send(socket.native_handle(), framed.data(), framed.size(), MSG_MORE | MSG_NOSIGNAL);
          boost::system::error_code ignored;
          socket.shutdown(tcp::socket::shutdown_send, ignored);
          co_await wait_for_close(socket);
          co_return;
        }
        const auto sent = common::send_now(socket.native_handle(), framed);
        if (!sent) {
          ++closed_by_client;
          co_return;
        }
        if (*sent == framed.size()) continue;
        if (auto [wec, wn] = co_await net::async_write(
                socket, net::buffer(framed.data() + *sent, framed.size() - *sent), use_tuple);
            wec) {
          ++closed_by_client;
          co_return;
        }
      }
      if (reply.end == FakeReply::End::drop) {
        // Let the client read what was sent: a reset can discard data still
        // in its receive buffer.
        net::steady_timer settle(ctx, std::chrono::milliseconds(100));
        co_await settle.async_wait(use_tuple);
        boost::system::error_code ignored;
        socket.set_option(net::socket_base::linger(true, 0), ignored);  // RST
        socket.close(ignored);
        co_return;
      }
      if (reply.end == FakeReply::End::hang) {
        co_await wait_for_close(socket);
        ++closed_by_client;
        co_return;
      }
      if (auto [wec, wn] =
              co_await net::async_write(socket, net::buffer("0\r\n\r\n", 5), use_tuple);
          wec) {
        co_return;
      }
      ++finished;
    }
  }
};

FakeLlmServer::FakeLlmServer(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  net::co_spawn(impl_->ctx, impl_->accept_loop(), net::detached);
  impl_->thread = std::thread([this] { impl_->ctx.run(); });
}

FakeLlmServer::~FakeLlmServer() {
  impl_->ctx.stop();
  impl_->thread.join();
}

std::uint16_t FakeLlmServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::string FakeLlmServer::url() const {
  return fmt::format("http://127.0.0.1:{}/v1", port());
}

void FakeLlmServer::push(FakeReply reply) {
  std::lock_guard lock(impl_->mutex);
  impl_->queue.push_back(std::move(reply));
}

void FakeLlmServer::set_default(FakeReply reply) {
  std::lock_guard lock(impl_->mutex);
  impl_->fallback = std::move(reply);
}

void FakeLlmServer::set_handler(std::function<FakeReply(const RecordedRequest&)> handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->handler = std::move(handler);
}

void FakeLlmServer::keep_last_requests(std::size_t n) {
  std::lock_guard lock(impl_->mutex);
  impl_->record_limit = n;
}

void FakeLlmServer::set_embeddings_handler(
    std::function<FakeReply(const RecordedRequest&)> handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->embeddings_handler = std::move(handler);
}

std::vector<RecordedRequest> FakeLlmServer::embedding_requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->embeddings_recorded;
}

std::vector<RecordedRequest> FakeLlmServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->recorded;
}

int FakeLlmServer::connections_accepted() const {
  return impl_->accepted;
}
int FakeLlmServer::responses_finished() const {
  return impl_->finished;
}
int FakeLlmServer::responses_started() const {
  return impl_->started;
}

int FakeLlmServer::connections_closed_by_client() const {
  return impl_->closed_by_client;
}

}  // namespace chrysopedia::test

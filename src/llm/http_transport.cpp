#include "llm/http_transport.hpp"

#include <sys/socket.h>

#include <array>
#include <cstdlib>
#include <deque>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/read.hpp>

#include "common/url.hpp"

namespace chrysopedia::llm {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// A pooled connection unused this long is closed rather than kept: servers
// drop idle keep-alive connections after a while anyway.
constexpr auto kIdleLimit = std::chrono::seconds(30);
// One read takes what a burst of tokens brings (curl's buffer was the same).
constexpr std::size_t kReadBuffer = 8192;
// A bursting upstream is read at most this often (the same window as the
// session's write coalescing: reads and writes then batch alike).
constexpr auto kReadPace = std::chrono::milliseconds(2);

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

}  // namespace

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  const auto parts = common::parse_url(std::string(url));
  if (!parts || parts->scheme != "http" || parts->host.empty() || !parts->user.empty() ||
      parts->password) {
    return std::nullopt;  // credentials in the URL stay with curl
  }
  HttpUrl out;
  out.host = parts->host;
  out.port = std::to_string(parts->port.value_or(80));
  std::string target = parts->path.empty() ? "/" : parts->path;
  if (!parts->query.empty()) target.append("?").append(parts->query);
  out.target = target.substr(0, target.find('#'));
  const bool v6 = out.host.find(':') != std::string::npos;
  out.authority = v6 ? "[" + out.host + "]" : out.host;
  if (parts->port) out.authority.append(":").append(out.port);
  return out;
}

bool AsioHttpTransport::handles(std::string_view url) {
  // curl reads these; a proxy between us and the model is its business.
  if (env_set("http_proxy") || env_set("all_proxy") || env_set("ALL_PROXY")) return false;
  return parse_http_url(url).has_value();
}

/// Idle keep-alive connections by "host:port", newest at the back.
struct AsioHttpTransport::Pool {
  explicit Pool(net::io_context& c) : ctx(c) {}
  struct Idle {
    tcp::socket socket;
    Clock::time_point since;
  };
  net::io_context& ctx;
  std::unordered_map<std::string, std::deque<Idle>> idle;

  std::optional<tcp::socket> take(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return std::nullopt;
    auto& list = it->second;
    while (!list.empty()) {
      tcp::socket s = std::move(list.back().socket);
      list.pop_back();
      // A connection the server has closed (or that holds stray bytes)
      // reads as ready; a live idle one has nothing to say.
      char c;
      const auto n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return s;
      error_code ignored;
      s.close(ignored);
    }
    return std::nullopt;
  }

  void give_back(const std::string& key, tcp::socket socket) {
    auto& list = idle[key];
    const auto now = Clock::now();
    while (!list.empty() && now - list.front().since > kIdleLimit) {
      error_code ignored;
      list.front().socket.close(ignored);
      list.pop_front();
    }
    list.push_back({std::move(socket), now});
  }
};

namespace {

/// One request and its response, run by a coroutine on the loop. The
/// handle given to the caller cancels it; the coroutine keeps it alive
/// until it has unwound.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::weak_ptr<AsioHttpTransport::Pool> pool, net::io_context& ctx, HttpUrl url,
           const ExchangeRequest& request, ExchangeEvents& events)
      : pool_(std::move(pool)),
        url_(std::move(url)),
        key_(url_.host + ":" + url_.port),
        body_(request.body),
        connect_timeout_(request.connect_timeout),
        total_timeout_(request.total_timeout),
        events_(&events),
        socket_(ctx),
        resolver_(ctx),
        total_timer_(ctx),
        connect_timer_(ctx),
        resume_timer_(ctx),
        pace_timer_(ctx) {
    head_.reserve(256);
    head_.append("POST ").append(url_.target).append(" HTTP/1.1\r\nHost: ");
    head_.append(url_.authority).append("\r\nUser-Agent: chrysopedia-chat\r\nContent-Length: ");
    head_.append(std::to_string(body_.size())).append("\r\n");
    for (const auto& h : request.headers) head_.append(h).append("\r\n");
    head_.append("\r\n");
  }

  void begin() { net::co_spawn(socket_.get_executor(), run(shared_from_this()), net::detached); }

  void cancel() {
    events_ = nullptr;
    stop();
  }

  void resume() {
    paused_ = false;
    resume_timer_.cancel();
  }

  bool request_sent() const { return sent_; }

 private:
  class Parser final : public bhttp::basic_parser<false> {
   public:
    explicit Parser(Exchange& x) : x_(x) {}

   private:
    void on_request_impl(bhttp::verb, boost::beast::string_view, boost::beast::string_view, int,
                         error_code&) override {}
    void on_response_impl(int code, boost::beast::string_view, int, error_code&) override {
      x_.status_ = code;
    }
    void on_field_impl(bhttp::field, boost::beast::string_view name,
                       boost::beast::string_view value, error_code&) override {
      if (x_.events_)
        x_.events_->on_header({name.data(), name.size()}, {value.data(), value.size()});
    }
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
    std::size_t on_body_impl(boost::beast::string_view body, error_code& ec) override {
      return x_.take_body({body.data(), body.size()}, ec);
    }
    void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                   error_code& ec) override {
      return x_.take_body({body.data(), body.size()}, ec);
    }
    void on_finish_impl(error_code&) override {}

    Exchange& x_;
  };

  // Bytes the consumer will not take now wait here (at most one read's
  // worth past its own limit) and the socket is not read until resume().
  std::size_t take_body(std::string_view bytes, error_code& ec) {
    if (paused_ || !pending_.empty()) {
      pending_.append(bytes);
      return bytes.size();
    }
    if (!deliver(bytes)) ec = net::error::operation_aborted;
    return bytes.size();
  }

  // False when the consumer aborted the exchange.
  bool deliver(std::string_view bytes) {
    if (!events_) return false;
    switch (events_->on_body(status_, bytes)) {
      case ExchangeEvents::Take::all:
        return true;
      case ExchangeEvents::Take::pause:
        paused_ = true;
        pending_.assign(bytes);
        return true;
      case ExchangeEvents::Take::abort:
        aborted_ = true;
        return false;
    }
    return true;
  }

  bool stopped() const { return !events_ || timed_out_; }

  void stop() {
    error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    total_timer_.cancel();
    connect_timer_.cancel();
    resume_timer_.cancel();
    pace_timer_.cancel();
  }

  static ExchangeOutcome failure(LlmError::Kind kind, std::string what, bool retryable) {
    ExchangeOutcome out;
    out.kind = kind;
    out.what = std::move(what);
    out.retryable = retryable;
    return out;
  }

  static net::awaitable<void> run(std::shared_ptr<Exchange> self) {
    // Never inside the caller's start(): on_end must not reach it there.
    co_await net::post(self->socket_.get_executor(), net::use_awaitable);
    if (!self->events_) co_return;
    std::weak_ptr<Exchange> weak = self;
    self->total_timer_.expires_after(self->total_timeout_);
    self->total_timer_.async_wait([weak](error_code ec) {
      auto x = weak.lock();
      if (ec || !x) return;
      x->timed_out_ = true;
      x->stop();
    });
    ExchangeOutcome out = co_await self->exchange();
    self->total_timer_.cancel();
    if (self->timed_out_ && !out.complete) {
      out = failure(LlmError::Kind::timeout,
                    "the upstream timed out: no complete answer within " +
                        std::to_string(self->total_timeout_.count()) + " ms",
                    false);
    }
    if (self->aborted_) out.complete = false;
    out.status = self->status_;
    if (auto* events = self->events_) {
      self->events_ = nullptr;
      events->on_end(std::move(out));
    }
  }

  net::awaitable<ExchangeOutcome> exchange() {
    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      if (attempt == 0) {
        if (auto pool = pool_.lock()) {
          if (auto s = pool->take(key_)) {
            socket_ = std::move(*s);
            reused = true;
          }
        }
      }
      if (!reused) {
        if (auto failed = co_await connect()) co_return std::move(*failed);
      }
      const std::array<net::const_buffer, 2> request{net::buffer(head_),
                                                     net::buffer(body_.data(), body_.size())};
      auto [write_ec, written] =
          co_await net::async_write(socket_, request, net::as_tuple(net::use_awaitable));
      if (stopped()) co_return ExchangeOutcome{};
      if (write_ec) {
        // A pooled connection the server closed meanwhile: a fresh one.
        if (reused) {
          close();
          continue;
        }
        co_return failure(LlmError::Kind::connect,
                          "cannot reach the upstream: " + write_ec.message(), true);
      }
      buffer_.clear();
      buffer_.reserve(kReadBuffer);
      error_code header_ec;
      for (;;) {
        parser_.emplace(*this);
        parser_->header_limit(64 * 1024);
        parser_->body_limit(boost::none);
        auto [ec, header_bytes] = co_await bhttp::async_read_header(
            socket_, buffer_, *parser_, net::as_tuple(net::use_awaitable));
        header_ec = ec;
        if (stopped()) co_return ExchangeOutcome{};
        // An interim answer (100 Continue, 103 Early Hints) comes before
        // the real one: skipped, as curl does.
        if (!ec && status_ >= 100 && status_ < 200 && status_ != 101) {
          status_ = 0;
          continue;
        }
        break;
      }
      if (header_ec) {
        const bool nothing = !parser_->got_some() && buffer_.size() == 0;
        if (nothing && reused) {
          close();
          continue;
        }
        if (nothing) {
          co_return failure(LlmError::Kind::truncated,
                            "the upstream closed the connection without answering", true);
        }
        co_return failure(LlmError::Kind::truncated,
                          "the upstream sent a malformed response: " + header_ec.message(), false);
      }
      sent_ = true;
      // Every event a read brought, in one go (reading the header turned
      // this off): otherwise each read_some parses one chunk and completes,
      // the consumer wakes between them and writes each token on its own.
      parser_->eager(true);
      bool buffered = buffer_.size() > 0;  // body bytes that came with the header
      while (!parser_->is_done()) {
        if (paused_ || !pending_.empty()) {
          if (!co_await deliver_held()) co_return ExchangeOutcome{};
          continue;
        }
        if (buffered) {
          // The parser is eager: one put takes every event the buffer holds
          // and stops at a partial one (need_more), which the next read ends.
          error_code parse_ec;
          buffer_.consume(parser_->put(buffer_.data(), parse_ec));
          if (stopped() || aborted_) co_return ExchangeOutcome{};
          if (parse_ec && parse_ec != bhttp::error::need_more) {
            co_return failure(LlmError::Kind::truncated,
                              "the upstream sent a malformed response: " + parse_ec.message(),
                              false);
          }
          buffered = !parse_ec && buffer_.size() > 0;
          continue;
        }
        // An upstream that bursts (a fast local model, tokens a fraction of
        // a millisecond apart) is read at most once per kReadPace: each read
        // then takes a burst, not a token. Reads are paced by when they
        // start: at a model's usual pace (tens of ms a token) the previous
        // read began long ago, so no timer is ever armed (pacing from when
        // it ended armed one per token). (Reads are ours, not Beast's
        // read_some, which reads again at once whenever an event is split.)
        const auto since = Clock::now() - read_started_;
        if (since < kReadPace) {
          pace_timer_.expires_after(kReadPace - since);
          co_await pace_timer_.async_wait(net::as_tuple(net::use_awaitable));
          if (stopped()) co_return ExchangeOutcome{};
        }
        const std::size_t room =
            std::max(kReadBuffer - std::min(kReadBuffer, buffer_.size()), kReadBuffer / 4);
        auto space = buffer_.prepare(room);
        read_started_ = Clock::now();
        auto [ec, n] = co_await socket_.async_read_some(space, net::as_tuple(net::use_awaitable));
        if (stopped()) co_return ExchangeOutcome{};
        buffer_.commit(n);
        buffered = n > 0;
        if (ec == net::error::eof) {
          // A body delimited by the close ends here; any other is cut short.
          error_code eof_ec;
          parser_->put_eof(eof_ec);
          if (!eof_ec && parser_->is_done()) break;
        }
        if (ec) {
          const bool reset = ec == net::error::connection_reset;
          co_return failure(
              LlmError::Kind::truncated,
              "the upstream connection failed mid-stream: " +
                  (ec == net::error::eof ? std::string("the connection closed") : ec.message()),
              reset);
        }
      }
      // Deliver what a pause held back, then the connection may go back.
      if (!co_await deliver_held()) co_return ExchangeOutcome{};
      if (parser_->keep_alive() && buffer_.size() == 0) {
        if (auto pool = pool_.lock()) pool->give_back(key_, std::move(socket_));
      }
      close();
      ExchangeOutcome done;
      done.complete = true;
      co_return done;
    }
  }

  // Waits for resume() and hands over what a pause held back, until the
  // consumer takes it all; false when the exchange ended meanwhile.
  net::awaitable<bool> deliver_held() {
    while (paused_ || !pending_.empty()) {
      if (paused_) {
        resume_timer_.expires_at(Clock::time_point::max());
        co_await resume_timer_.async_wait(net::as_tuple(net::use_awaitable));
        if (stopped()) co_return false;
        continue;
      }
      std::string bytes = std::move(pending_);
      pending_.clear();
      if (!deliver(bytes)) co_return false;
    }
    co_return true;
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
  }

  net::awaitable<std::optional<ExchangeOutcome>> connect() {
    close();
    connected_ = false;
    std::weak_ptr<Exchange> weak = weak_from_this();
    connect_timer_.expires_after(connect_timeout_);
    connect_timer_.async_wait([weak](error_code ec) {
      auto x = weak.lock();
      if (ec || !x || x->connected_) return;
      x->connect_timed_out_ = true;
      x->resolver_.cancel();
      x->close();
    });
    std::vector<tcp::endpoint> endpoints;
    error_code ec;
    const auto address = net::ip::make_address(url_.host, ec);
    if (!ec) {
      endpoints.emplace_back(address, static_cast<unsigned short>(std::stoi(url_.port)));
    } else {
      auto [resolve_ec, results] =
          co_await resolver_.async_resolve(url_.host, url_.port, net::as_tuple(net::use_awaitable));
      if (stopped()) co_return ExchangeOutcome{};
      if (resolve_ec) {
        connect_timer_.cancel();
        if (connect_timed_out_) co_return connect_timeout();
        co_return failure(LlmError::Kind::connect,
                          "cannot reach the upstream: could not resolve " + url_.host + " (" +
                              resolve_ec.message() + ")",
                          true);
      }
      for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    auto [connect_ec, endpoint] =
        co_await net::async_connect(socket_, endpoints, net::as_tuple(net::use_awaitable));
    connected_ = true;
    connect_timer_.cancel();
    if (stopped()) co_return ExchangeOutcome{};
    if (connect_timed_out_) co_return connect_timeout();
    if (connect_ec) {
      co_return failure(LlmError::Kind::connect,
                        "cannot reach the upstream: " + connect_ec.message(), true);
    }
    socket_.set_option(tcp::no_delay(true), ec);
    co_return std::nullopt;
  }

  ExchangeOutcome connect_timeout() const {
    return failure(LlmError::Kind::timeout,
                   "the upstream timed out: no connection within " +
                       std::to_string(connect_timeout_.count()) + " ms",
                   false);
  }

  std::weak_ptr<AsioHttpTransport::Pool> pool_;
  HttpUrl url_;
  std::string key_;
  std::string head_;
  std::string_view body_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds total_timeout_;
  ExchangeEvents* events_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  net::steady_timer total_timer_;
  net::steady_timer connect_timer_;
  net::steady_timer resume_timer_;
  net::steady_timer pace_timer_;
  Clock::time_point read_started_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::string pending_;
  int status_ = 0;
  bool sent_ = false;
  bool paused_ = false;
  bool aborted_ = false;
  bool timed_out_ = false;
  bool connect_timed_out_ = false;
  bool connected_ = false;
};

class Handle final : public UpstreamExchange {
 public:
  explicit Handle(std::shared_ptr<Exchange> x) : x_(std::move(x)) {}
  ~Handle() override { x_->cancel(); }
  void resume() override { x_->resume(); }
  bool request_sent() const override { return x_->request_sent(); }

 private:
  std::shared_ptr<Exchange> x_;
};

}  // namespace

AsioHttpTransport::AsioHttpTransport(net::io_context& ctx) : pool_(std::make_shared<Pool>(ctx)) {}

AsioHttpTransport::~AsioHttpTransport() = default;

std::unique_ptr<UpstreamExchange> AsioHttpTransport::start(const ExchangeRequest& request,
                                                           ExchangeEvents& events) {
  auto url = parse_http_url(request.url);  // the caller asked handles() first
  auto x = std::make_shared<Exchange>(pool_, pool_->ctx, std::move(*url), request, events);
  x->begin();
  return std::make_unique<Handle>(std::move(x));
}

}  // namespace chrysopedia::llm

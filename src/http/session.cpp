#include "http/session.hpp"

#include <array>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "chrysopedia/http/json_error.hpp"
#include "chrysopedia/observability/request_id.hpp"
#include "common/log_text.hpp"
#include "http/session_exchange.hpp"
#include "http/session_registry.hpp"

namespace chrysopedia::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using net::awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kReadChunk = 4096;
// While a handler runs, the client usually sends nothing more; what this
// takes from the read buffer is held for as long as the answer streams.
constexpr std::size_t kWatchChunk = 64;
Request to_request(bhttp::request<bhttp::string_body>&& raw) {
  Request req;
  req.method = std::string(raw.method_string());
  req.target = std::string(raw.target());
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  req.headers.reserve(8);
  for (const auto& field : raw) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  const auto given_id = raw["X-Request-Id"];
  req.request_id = observability::acceptable_request_id(given_id)
                       ? std::string(given_id)
                       : observability::make_request_id();
  req.body = std::move(raw.body());
  return req;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

Session::Session(net::ip::tcp::socket socket, const ServerOptions& options,
                 std::shared_ptr<const Router> router, SessionRegistry& registry,
                 IdleConnections& idle)
    : stream_(std::move(socket)),
      options_(options),
      router_(std::move(router)),
      registry_(registry),
      writer_(stream_, options),
      cors_(options.cors_allowed_origins),
      limits_{options.header_limit, options.body_limit},
      idle_(idle),
      cut_(std::make_shared<net::cancellation_signal>()) {
  beast::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_address_ = peer.address().to_string();
  idle_client_ = idle_.client_of(peer_address_);
  registry_.add(this);
}

Session::~Session() {
  registry_.remove(this);
}

void Session::start() {
  net::co_spawn(stream_.get_executor(), run(),
                net::bind_cancellation_slot(cut_->slot(), [cut = cut_](std::exception_ptr) {}));
}

awaitable<void> Session::run() {
  auto self = shared_from_this();
  try {
    for (;;) {
      bhttp::request<bhttp::string_body> raw;
      if (!co_await read_request(raw)) break;
      if (!co_await handle(raw) || closing_) break;
    }
  } catch (const std::exception& e) {
    // Only the client's connection failing gets here; handlers' own errors
    // are dealt with in handle().
    spdlog::debug("http_connection_closed reason=\"{}\"", e.what());
  }
  close_socket();
}

void Session::begin_shutdown() {
  closing_ = true;
  if (state_ == State::idle) close_socket();
}

void Session::force_close() {
  closing_ = true;
  close_socket();
}

void Session::close_socket() {
  beast::error_code ec;
  auto& socket = stream_.socket();
  if (!socket.is_open()) return;
  socket.shutdown(net::ip::tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

awaitable<bool> Session::read_request(bhttp::request<bhttp::string_body>& out) {
  state_ = State::idle;
  if (closing_) co_return false;
  // Waiting for a request, the connection counts against its client's cap.
  if (!idle_slot_) {
    idle_slot_ = idle_.try_acquire(idle_client_);
    if (!idle_slot_) {
      co_await refuse_idle_connection();
      co_return false;
    }
  }
  RequestReader reader(limits_);
  const auto read_some = [this, &reader] {
    return stream_.async_read_some(buffer_.prepare(std::min(kReadChunk, reader.room(buffer_))),
                                   use_tuple);
  };
  if (buffer_.size() == 0) {
    // Waiting for a request to start is bounded by the idle timeout; once a
    // byte has come, the whole request must arrive within the request
    // timeout, so a client trickling bytes cannot hold the connection.
    stream_.expires_after(options_.idle_timeout);
    auto [ec, n] = co_await read_some();
    if (ec) co_return false;
    buffer_.commit(n);
  }
  state_ = State::reading;
  stream_.expires_after(options_.request_timeout);
  for (;;) {
    const auto step = reader.parse(buffer_);
    if (step == RequestReader::Step::done) break;
    if (step == RequestReader::Step::rejected) {
      co_await reject(reader.rejection(), reader);
      co_return false;
    }
    if (step == RequestReader::Step::wants_continue) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [ec, n] = co_await net::async_write(
          stream_, net::buffer(kContinue.data(), kContinue.size()), use_tuple);
      if (ec) co_return false;
      continue;
    }
    auto [ec, n] = co_await read_some();
    if (ec == beast::error::timeout) {
      const Rejection late{408, "request_timeout",
                           "The request did not arrive in time; send it whole, without pauses."};
      co_await reject(late, reader);
      co_return false;
    }
    if (ec) co_return false;  // gone mid-request: there is nobody to answer
    buffer_.commit(n);
  }
  out = reader.release();
  // A stream may hold this connection for minutes: give back the read
  // buffer (watch_client reads little while the handler runs).
  if (buffer_.size() == 0) buffer_.shrink_to_fit();
  co_return true;
}

awaitable<void> Session::reject(const Rejection& why, const RequestReader& reader) {
  Response error = json_error(why.status, why.code, why.message);
  Request req;
  req.request_id = observability::make_request_id();
  // A request whose head was read is counted under its route (a page over
  // its body limit also learns why, through CORS); one that never got
  // that far has no route, and is counted as malformed.
  std::string_view route = "malformed";
  Router::Match match;
  if (reader.header_done()) {
    const auto& head = reader.head();
    if (const auto origin = head[bhttp::field::origin]; !origin.empty()) {
      req.headers.emplace_back("origin", std::string(origin));
    }
    const auto target = head.target();
    match = router_->match(head.method_string(), target.substr(0, target.find('?')));
    route = match.pattern;
  }
  writer_.begin_request(weak_from_this(), false, cors_.response_headers(req));
  if (options_.on_request) options_.on_request(route, error.status);
  spdlog::info("http_rejected rid={} status={} reason={}", req.request_id, error.status,
               common::log_quote(why.message));
  state_ = State::handling;
  co_await write_response(req, std::move(error), false);
  co_await lingering_close();
}

awaitable<void> Session::refuse_idle_connection() {
  spdlog::info("http_idle_connections_refused peer={} max={}", peer_address_,
               idle_.max_per_client());
  if (served_ > 0) co_return;  // a kept-alive connection: closing it says enough
  Response busy = json_error(
      503, "too_many_connections",
      fmt::format("This client already holds {} idle connections to the server; reuse one of "
                  "them, or close some.",
                  idle_.max_per_client()));
  busy.headers.emplace_back("Retry-After", "1");
  if (options_.on_request) options_.on_request("malformed", busy.status);
  Request req;
  req.request_id = observability::make_request_id();
  // No origin known: Vary only.
  writer_.begin_request(weak_from_this(), false, cors_.response_headers(req));
  state_ = State::handling;
  co_await write_response(req, std::move(busy), false);
  co_await lingering_close();
}

awaitable<bool> Session::handle(bhttp::request<bhttp::string_body>& raw) {
  // This frame lives as long as the handler, for minutes when it streams:
  // what only a request without a handler, or a handler's failure, needs
  // is in coroutines of their own.
  const auto started = Clock::now();
  state_ = State::handling;
  ++served_;
  idle_slot_.release();
  const bool client_keep_alive = raw.keep_alive();
  const bool http10 = raw.version() < 11;
  Request req = to_request(std::move(raw));
  // Moved from, the message still holds its header fields; it lives in
  // run()'s frame for as long as the answer streams.
  raw = {};
  req.peer_address = peer_address_;

  auto match = router_->match(req.method, req.path);
  SessionExchange exchange(*this, req, client_keep_alive);
  bool client_gone = false;
  std::exception_ptr failure;
  writer_.begin_request(weak_from_this(), http10, cors_.response_headers(req));

  if (!match.handler) {
    co_await respond_unrouted(exchange, req, match);
  } else {
    req.params = std::move(match.params);
    stream_.expires_never();
    writer_.start_heartbeat([this] { client_left(); });
    const struct HeartbeatStop {
      ResponseWriter& writer;
      ~HeartbeatStop() { writer.stop_heartbeat(); }
    } heartbeat_stop{writer_};
    // The handler runs in this coroutine, alongside a watch on the client's
    // socket; a client that leaves cancels it at once (the watch emits to
    // this coroutine's cancellation slot). A write that fails (a
    // heartbeat's, or one the handler did not wait for) ends it the same way.
    client_gone_ = false;
    handler_running_ = true;
    watch_client();
    try {
      co_await (*match.handler)(exchange);
    } catch (...) {
      failure = std::current_exception();
    }
    handler_running_ = false;
    client_gone = client_gone_;
    // A handler cancelled because its client left ends with an error that
    // is no failure of its own.
    if (client_gone) failure = nullptr;
    co_await net::this_coro::reset_cancellation_state();
    // The watch's read uses the read buffer, which the next request needs:
    // it is cancelled, and its end awaited (a turn of the loop or two).
    stop_watching();
    while (watching_) co_await net::post(stream_.get_executor(), net::use_awaitable);
  }

  const bool socket_ok = stream_.socket().is_open() && !writer_.broken() && !client_gone;
  if (socket_ok && (failure || !exchange.started())) {
    co_await respond_failed(exchange, req, failure);
  }
  // (A 500 just written is a whole response, not a stream.)
  if (socket_ok && exchange.streaming()) co_await writer_.write_last_chunk();
  writer_.end_stream();

  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  const int status = exchange.status();
  if (options_.on_request) options_.on_request(match.pattern, status);
  const auto level = status >= 500 ? spdlog::level::warn : spdlog::level::debug;
  spdlog::log(level, "http_request rid={} method={} path={} status={} ms={:.1f}{}", req.request_id,
              req.method, common::log_quote(req.path), status, ms,
              client_gone ? " client_gone=true" : "");
  co_return socket_ok && !failure && exchange.keep_alive() && !closing_ &&
      !(http10 && exchange.streaming());
}

// A preflight, or a path or method with no handler.
awaitable<void> Session::respond_unrouted(SessionExchange& exchange, const Request& req,
                                          const Router::Match& match) {
  Response r;
  if (cors_.is_preflight(req) && !match.allowed.empty()) {
    r.status = 204;
    r.content_type.clear();
    writer_.set_cors(cors_.preflight_headers(req, match.allowed));
  } else if (match.allowed.empty()) {
    r = json_error(404, "not_found",
                   fmt::format("There is nothing at {} {}.", req.method, req.path));
  } else {
    const auto allow = join(match.allowed, ", ");
    r = json_error(
        405, "method_not_allowed",
        fmt::format("{} does not accept {}; it accepts {}.", req.path, req.method, allow));
    r.headers.emplace_back("Allow", allow);
  }
  co_await exchange.respond(std::move(r));
}

// A handler that failed (logged here), or ended without answering: a 500
// unless its answer has begun (a stream is ended by the caller).
awaitable<void> Session::respond_failed(SessionExchange& exchange, const Request& req,
                                        std::exception_ptr failure) {
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("http_handler_error rid={} method={} path={} error=\"{}\"", req.request_id,
                    req.method, common::log_quote(req.path), e.what());
    }
  }
  if (!exchange.started()) {
    auto error = json_error(
        500, "internal_error",
        "The server failed to answer this request; it has been logged as " + req.request_id + ".");
    co_await exchange.respond(std::move(error));
  }
}

// The answer keeps the connection only while the server is not closing it.
awaitable<void> Session::write_response(const Request& request, Response&& response,
                                        bool keep_alive) {
  co_await writer_.write_response(request, std::move(response), keep_alive && !closing_);
}

awaitable<void> Session::write_event_stream_head(
    const Request& request, bool keep_alive,
    std::vector<std::pair<std::string, std::string>> headers) {
  co_await writer_.write_event_stream_head(request, keep_alive && !closing_, std::move(headers));
}

awaitable<void> Session::write_chunk(std::string_view payload) {
  co_await writer_.write_chunk(payload);
}

void Session::watch_client() {
  // A client pipelining this much is not waiting for our answer: it is not
  // read until the handler is done.
  if (buffer_.size() >= RequestReader::buffer_limit(limits_)) return;
  watching_ = true;
  stream_.socket().async_read_some(
      buffer_.prepare(kWatchChunk),
      net::bind_cancellation_slot(watch_cut_.slot(),
                                  [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->watching_ = false;
                                    self->buffer_.commit(n);
                                    if (!self->handler_running_) return;
                                    if (ec) {
                                      self->client_left();  // gone (or its socket closed under it)
                                    } else {
                                      self->watch_client();
                                    }
                                  }));
}

void Session::stop_watching() {
  // This read only: a write to the client may still be under way.
  if (watching_) watch_cut_.emit(net::cancellation_type::terminal);
}

void Session::client_left() {
  if (client_gone_ || !handler_running_) return;
  client_gone_ = true;
  // Not from inside a write the handler is making: on the loop's next turn,
  // if the handler still runs by then.
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->handler_running_) self->cut_->emit(net::cancellation_type::terminal);
  });
}

awaitable<void> Session::lingering_close() {
  // Closing with unread request bytes makes the kernel send RST, which can
  // destroy our error response before the client reads it. Half-close, then
  // drain briefly.
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::chrono::seconds(2));
  std::size_t drained = 0;
  std::array<char, 4096> sink;
  while (drained < 1024 * 1024) {
    auto [rec, n] = co_await stream_.async_read_some(net::buffer(sink), use_tuple);
    if (rec) break;
    drained += n;
  }
}

}  // namespace chrysopedia::http

#include "http/session.hpp"

#include <array>
#include <cerrno>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "chrysopedia/http/json_error.hpp"
#include "chrysopedia/observability/request_id.hpp"
#include "common/log_text.hpp"
#include "common/send_now.hpp"
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
// While a handler runs, the client usually sends nothing more.
constexpr std::size_t kWatchChunk = 512;
// Past this much output waiting for a slow reader, the handler waits.
constexpr std::size_t kOutputBound = 16 * 1024;
// Output buffers larger than this are released once written.
constexpr std::size_t kKeepBuffer = 2 * 1024;
// Writes closer together than this wait (see schedule_flush). 2 ms: far
// below what a reader sees, and at 1 ms a burst still cost half again as
// much CPU (docs/PERFORMANCE.md, throughput).
constexpr auto kCoalesceWindow = std::chrono::milliseconds(2);

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
      writer_done_(stream_.get_executor(), Clock::time_point::max()),
      coalesce_(stream_.get_executor()),
      cors_(options.cors_allowed_origins),
      limits_{options.header_limit, options.body_limit},
      idle_(idle) {
  beast::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_address_ = peer.address().to_string();
  idle_client_ = idle_.client_of(peer_address_);
  registry_.add(this);
}

Session::~Session() {
  registry_.remove(this);
}

awaitable<void> Session::run() {
  auto self = shared_from_this();
  try {
    for (;;) {
      bhttp::request<bhttp::string_body> raw;
      if (!co_await read_request(raw)) break;
      if (!co_await handle(std::move(raw)) || closing_) break;
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
  cors_headers_ = cors_.response_headers(req);
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
  cors_headers_ = cors_.response_headers(req);  // no origin known: Vary only
  state_ = State::handling;
  co_await write_response(req, std::move(busy), false);
  co_await lingering_close();
}

awaitable<bool> Session::handle(bhttp::request<bhttp::string_body> raw) {
  const auto started = Clock::now();
  state_ = State::handling;
  ++served_;
  idle_slot_.release();
  const bool client_keep_alive = raw.keep_alive();
  http10_ = raw.version() < 11;
  Request req = to_request(std::move(raw));
  req.peer_address = peer_address_;

  auto match = router_->match(req.method, req.path);
  SessionExchange exchange(*this, req, client_keep_alive);
  bool client_gone = false;
  std::exception_ptr failure;
  cors_headers_ = cors_.response_headers(req);

  if (!match.handler && cors_.is_preflight(req) && !match.allowed.empty()) {
    Response r;
    r.status = 204;
    r.content_type.clear();
    cors_headers_ = cors_.preflight_headers(req, match.allowed);
    co_await exchange.respond(std::move(r));
  } else if (!match.handler) {
    Response r;
    if (match.allowed.empty()) {
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
  } else {
    req.params = std::move(match.params);
    stream_.expires_never();
    last_write_ = Clock::now();
    // The handler runs alongside a watch on the client's socket and the
    // heartbeat; whichever ends first cancels the others, so a client that
    // leaves cancels its handler at once. (Not `||`: that waits for the
    // first *success*, so a handler that throws would wait for the client.)
    auto ex = stream_.get_executor();
    auto [order, handler_error, watch_error, heartbeat_error] =
        co_await net::experimental::make_parallel_group(
            net::co_spawn(ex, (*match.handler)(exchange), net::deferred),
            net::co_spawn(ex, watch_client(), net::deferred),
            net::co_spawn(ex, heartbeat(), net::deferred))
            .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
    client_gone = order[0] != 0;
    // A handler cancelled because its client left ends with an error that
    // is no failure of its own.
    if (handler_error && !client_gone) failure = handler_error;
  }

  const bool socket_ok = stream_.socket().is_open() && !broken_ && !client_gone;
  if (failure && socket_ok) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("http_handler_error rid={} method={} path={} error=\"{}\"", req.request_id,
                    req.method, common::log_quote(req.path), e.what());
    }
  }
  if (socket_ok && !exchange.started()) {
    auto error = json_error(
        500, "internal_error",
        "The server failed to answer this request; it has been logged as " + req.request_id + ".");
    co_await exchange.respond(std::move(error));
  } else if (socket_ok && exchange.streaming()) {
    co_await write_last_chunk();
  }
  streaming_ = false;

  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  const int status = exchange.status();
  if (options_.on_request) options_.on_request(match.pattern, status);
  const auto level = status >= 500 ? spdlog::level::warn : spdlog::level::debug;
  spdlog::log(level, "http_request rid={} method={} path={} status={} ms={:.1f}{}", req.request_id,
              req.method, common::log_quote(req.path), status, ms,
              client_gone ? " client_gone=true" : "");
  co_return socket_ok && !failure && exchange.keep_alive() && !closing_ &&
      !(http10_ && exchange.streaming());
}

awaitable<void> Session::watch_client() {
  auto& socket = stream_.socket();
  for (;;) {
    if (buffer_.size() >= RequestReader::buffer_limit(limits_)) {
      // A client pipelining this much is not waiting for our answer; stop
      // reading until the handler is done (which cancels this wait).
      net::steady_timer hold(socket.get_executor(), Clock::time_point::max());
      co_await hold.async_wait(use_tuple);
      co_return;
    }
    auto [ec, n] = co_await socket.async_read_some(buffer_.prepare(kWatchChunk), use_tuple);
    if (ec) co_return;  // gone, or cancelled because the handler finished
    buffer_.commit(n);
  }
}

awaitable<void> Session::heartbeat() {
  net::steady_timer timer(stream_.get_executor());
  for (;;) {
    const auto now = Clock::now();
    timer.expires_at(streaming_ && !writing_ ? last_write_ + options_.heartbeat_interval
                                             : now + options_.heartbeat_interval);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    if (!streaming_ || writing_ || Clock::now() - last_write_ < options_.heartbeat_interval) {
      continue;
    }
    try {
      const std::string ping = SseFramer::comment("ping");
      co_await write_chunk(ping);
      co_await drain();
    } catch (const std::exception&) {
      co_return;  // the connection failed: ending here cancels the handler
    }
  }
}

awaitable<void> Session::write_response(const Request& request, Response&& response,
                                        bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status), 11};
  if (!response.content_type.empty()) res.set(bhttp::field::content_type, response.content_type);
  res.set("X-Request-Id", request.request_id);
  // No browser may guess another type for what we send, and no cache keep
  // an API answer (a conversation is private to whoever may read it).
  res.set("X-Content-Type-Options", "nosniff");
  if (response.content_type.rfind("application/json", 0) == 0) {
    res.set(bhttp::field::cache_control, "no-store");
  }
  for (auto& [name, value] : cors_headers_) res.set(name, value);
  for (auto& [name, value] : response.headers) res.set(name, value);
  res.keep_alive(keep_alive && !closing_);
  res.body() = std::move(response.body);
  res.prepare_payload();
  stream_.expires_after(options_.write_timeout);
  writing_ = true;
  auto [ec, n] = co_await bhttp::async_write(stream_, res, use_tuple);
  writing_ = false;
  if (ec) {
    broken_ = true;
    throw beast::system_error(ec);
  }
}

awaitable<void> Session::write_event_stream_head(const Request& request, bool keep_alive) {
  bhttp::response<bhttp::empty_body> res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "text/event-stream");
  res.set(bhttp::field::cache_control, "no-cache");
  res.set("X-Accel-Buffering", "no");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Request-Id", request.request_id);
  for (auto& [name, value] : cors_headers_) res.set(name, value);
  res.keep_alive(keep_alive && !closing_ && !http10_);
  res.chunked(!http10_);
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  stream_.expires_after(options_.write_timeout);
  writing_ = true;
  auto [ec, n] = co_await bhttp::async_write_header(stream_, sr, use_tuple);
  writing_ = false;
  if (ec) {
    broken_ = true;
    throw beast::system_error(ec);
  }
  streaming_ = true;
  stream_writes_ = 0;
  last_write_ = Clock::now();
}

awaitable<void> Session::write_chunk(std::string_view payload) {
  throw_if_broken();
  if (http10_) {
    out_.append(payload);
  } else {
    fmt::format_to(std::back_inserter(out_), "{:x}\r\n", payload.size());
    out_.append(payload).append("\r\n");
  }
  schedule_flush();
  while (out_.size() > kOutputBound) {
    start_flush();
    co_await wait_for_writer();
    throw_if_broken();
  }
}

awaitable<void> Session::write_last_chunk() {
  throw_if_broken();
  if (!http10_) out_.append("0\r\n\r\n");
  co_await drain();
  // A long-lived keep-alive connection should not keep a burst's buffers.
  if (out_.capacity() > kKeepBuffer) std::string().swap(out_);
  if (in_flight_.capacity() > kKeepBuffer) std::string().swap(in_flight_);
}

void Session::throw_if_broken() const {
  if (broken_) throw beast::system_error(broken_ec_);
}

// The write starts once the handler pauses, not now: tokens that arrived
// in one read from the upstream then leave in one write, not one each.
// And a write that would follow the last one within kCoalesceWindow waits
// for the window to pass: an upstream that bursts (a fast local model)
// then costs one packet per window instead of one per read. The sources
// and the first token never wait: they are what users wait for; at a
// model's usual pace (tens of ms a token) nothing ever does.
void Session::schedule_flush() {
  if (writing_ || flush_posted_ || out_.empty()) return;
  flush_posted_ = true;
  auto flush = [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->start_flush();
  };
  const auto due = last_write_ + kCoalesceWindow;
  if (stream_writes_ >= 2 && Clock::now() < due) {
    coalesce_.expires_at(due);
    coalesce_.async_wait([flush](const beast::error_code&) { flush(); });
  } else {
    net::post(stream_.get_executor(), std::move(flush));
  }
}

void Session::start_flush() {
  if (writing_ || broken_ || out_.empty()) return;
  in_flight_.swap(out_);
  out_.clear();
  ++stream_writes_;
  // A write almost always fits in the socket's send buffer: sent at once
  // (per token, thousands of streams, see send_now). Only what the socket
  // cannot take now waits for it, under the timeout.
  const auto sent = common::send_now(stream_.socket().native_handle(), in_flight_);
  if (!sent || *sent == in_flight_.size()) {
    on_flushed(sent ? beast::error_code{}
                    : beast::error_code(errno, net::error::get_system_category()));
    return;
  }
  in_flight_.erase(0, *sent);
  writing_ = true;
  // A reader that takes nothing for this long is treated as gone.
  stream_.expires_after(options_.write_timeout);
  net::async_write(stream_, net::buffer(in_flight_),
                   [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                     self->on_flushed(ec);
                   });
}

void Session::on_flushed(const beast::error_code& ec) {
  writing_ = false;
  in_flight_.clear();
  // Most writes are a token or two; a large one (the sources, a burst)
  // should not stay allocated for the rest of a long stream.
  if (in_flight_.capacity() > kKeepBuffer) std::string().swap(in_flight_);
  last_write_ = Clock::now();
  if (ec) {
    broken_ = true;
    broken_ec_ = ec;
  } else {
    schedule_flush();  // what queued meanwhile: through the window too
  }
  writer_done_.cancel();
}

awaitable<void> Session::drain() {
  // Each turn starts what queued meanwhile itself: a write held for the
  // coalescing window is not waited for.
  for (start_flush(); writing_ || (!out_.empty() && !broken_); start_flush()) {
    co_await wait_for_writer();
  }
  throw_if_broken();
}

awaitable<void> Session::wait_for_writer() {
  while (writing_) {
    // The expiry stays at "never" (set once: setting it cancels every
    // pending wait, and the handler and the heartbeat may both be waiting).
    co_await writer_done_.async_wait(use_tuple);
    const auto cs = co_await net::this_coro::cancellation_state;
    if (cs.cancelled() != net::cancellation_type::none) {
      throw beast::system_error(net::error::operation_aborted);
    }
    if (!writing_) co_return;
  }
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

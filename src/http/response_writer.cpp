#include "http/response_writer.hpp"

#include <cerrno>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "chrysopedia/http/sse_framer.hpp"
#include "common/send_now.hpp"

namespace chrysopedia::http {

using Clock = std::chrono::steady_clock;
namespace net = boost::asio;
using net::awaitable;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

// Past this much output waiting for a slow reader, the handler waits.
constexpr std::size_t kOutputBound = 16 * 1024;
// Output buffers larger than this are released once written.
constexpr std::size_t kKeepBuffer = 2 * 1024;
// Writes closer together than this wait (see schedule_flush). 2 ms: far
// below what a reader sees, and at 1 ms a burst still cost half again as
// much CPU (docs/PERFORMANCE.md, throughput).
constexpr auto kCoalesceWindow = std::chrono::milliseconds(2);
// Awaited operations report errors as values here: a failed write marks
// the connection broken rather than unwinding through the flush.
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

}  // namespace

ResponseWriter::ResponseWriter(beast::tcp_stream& stream, const ServerOptions& options)
    : stream_(stream),
      options_(options),
      writer_done_(stream.get_executor(), Clock::time_point::max()),
      coalesce_(stream.get_executor()),
      heartbeat_(stream.get_executor()) {}

void ResponseWriter::begin_request(std::weak_ptr<void> owner, bool http10, HeaderList cors) {
  owner_ = std::move(owner);
  http10_ = http10;
  cors_ = std::move(cors);
  last_write_ = Clock::now();
  hold_ = false;
}

void ResponseWriter::start_heartbeat(std::function<void()> on_broken) {
  on_broken_ = std::move(on_broken);
  arm_heartbeat();
}

void ResponseWriter::stop_heartbeat() {
  on_broken_ = nullptr;
  heartbeat_.cancel();
}

void ResponseWriter::arm_heartbeat() {
  heartbeat_.expires_at(streaming_ && !writing_ ? last_write_ + options_.heartbeat_interval
                                                : Clock::now() + options_.heartbeat_interval);
  heartbeat_.async_wait([self = owner_.lock(), this](const beast::error_code& ec) {
    if (!ec && on_broken_) beat();
  });
}

void ResponseWriter::beat() {
  if (streaming_ && !writing_ && !broken_ &&
      Clock::now() - last_write_ >= options_.heartbeat_interval) {
    // With whatever is held (the stream has been quiet for the interval).
    append_chunk(SseFramer::comment("ping"));
    hold_ = false;
    start_flush();
  }
  if (!broken_) arm_heartbeat();
}

awaitable<void> ResponseWriter::write_response(const Request& request, Response&& response,
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
  for (auto& [name, value] : cors_) res.set(name, value);
  for (auto& [name, value] : response.headers) res.set(name, value);
  res.keep_alive(keep_alive);
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

awaitable<void> ResponseWriter::write_event_stream_head(
    const Request& request, bool keep_alive,
    std::vector<std::pair<std::string, std::string>> headers) {
  bhttp::response<bhttp::empty_body> res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "text/event-stream");
  res.set(bhttp::field::cache_control, "no-cache");
  res.set("X-Accel-Buffering", "no");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Request-Id", request.request_id);
  for (auto& [name, value] : cors_) res.set(name, value);
  for (auto& [name, value] : headers) res.set(name, value);
  res.keep_alive(keep_alive && !http10_);
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

void ResponseWriter::append_chunk(std::string_view payload) {
  if (http10_) {
    out_.append(payload);
  } else {
    fmt::format_to(std::back_inserter(out_), "{:x}\r\n", payload.size());
    out_.append(payload).append("\r\n");
  }
}

awaitable<void> ResponseWriter::write_chunk(std::string_view payload) {
  throw_if_broken();
  append_chunk(payload);
  if (!hold_) schedule_flush();
  while (out_.size() > kOutputBound) {
    start_flush();
    co_await wait_for_writer();
    throw_if_broken();
  }
}

awaitable<void> ResponseWriter::write_last_chunk() {
  throw_if_broken();
  if (!http10_) out_.append("0\r\n\r\n");
  co_await drain();
  // A long-lived keep-alive connection should not keep a burst's buffers.
  if (out_.capacity() > kKeepBuffer) std::string().swap(out_);
  if (in_flight_.capacity() > kKeepBuffer) std::string().swap(in_flight_);
}

void ResponseWriter::throw_if_broken() const {
  if (broken_) throw beast::system_error(broken_ec_);
}

// The write starts once the handler pauses, not now: tokens that arrived
// in one read from the upstream then leave in one write, not one each.
// And a write that would follow the last one within kCoalesceWindow waits
// for the window to pass: an upstream that bursts (a fast local model)
// then costs one packet per window instead of one per read. The sources
// and the first token never wait: they are what users wait for; at a
// model's usual pace (tens of ms a token) nothing ever does.
void ResponseWriter::schedule_flush() {
  if (writing_ || flush_posted_ || out_.empty()) return;
  flush_posted_ = true;
  auto flush = [self = owner_.lock(), this] {
    flush_posted_ = false;
    start_flush();
  };
  const auto due = last_write_ + kCoalesceWindow;
  if (stream_writes_ >= 2 && Clock::now() < due) {
    coalesce_.expires_at(due);
    coalesce_.async_wait([flush](const beast::error_code&) { flush(); });
  } else {
    net::post(stream_.get_executor(), std::move(flush));
  }
}

// The producer has caught up: what it held goes now, from its own turn of
// the loop (a posted flush would cost the loop another poll of its sockets
// first), unless the coalescing window holds it as it would any write.
void ResponseWriter::release() {
  if (!hold_) return;
  hold_ = false;
  if (writing_ || flush_posted_ || out_.empty()) return;
  if (stream_writes_ >= 2 && Clock::now() < last_write_ + kCoalesceWindow) {
    schedule_flush();
    return;
  }
  start_flush();
}

void ResponseWriter::start_flush() {
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
  net::async_write(
      stream_, net::buffer(in_flight_),
      [self = owner_.lock(), this](const beast::error_code& ec, std::size_t) { on_flushed(ec); });
}

void ResponseWriter::on_flushed(const beast::error_code& ec) {
  writing_ = false;
  in_flight_.clear();
  // Most writes are a token or two; a large one (the sources, a burst)
  // should not stay allocated for the rest of a long stream.
  if (in_flight_.capacity() > kKeepBuffer) std::string().swap(in_flight_);
  last_write_ = Clock::now();
  if (ec) {
    broken_ = true;
    broken_ec_ = ec;
    // The handler may be waiting for something else (its model): the
    // session ends it now, as it does when the client leaves.
    if (on_broken_) {
      const auto on_broken = std::move(on_broken_);
      stop_heartbeat();
      on_broken();
    }
  } else {
    schedule_flush();  // what queued meanwhile: through the window too
  }
  writer_done_.cancel();
}

awaitable<void> ResponseWriter::drain() {
  hold_ = false;
  // Each turn starts what queued meanwhile itself: a write held for the
  // coalescing window is not waited for.
  for (start_flush(); writing_ || (!out_.empty() && !broken_); start_flush()) {
    co_await wait_for_writer();
  }
  throw_if_broken();
}

awaitable<void> ResponseWriter::wait_for_writer() {
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

}  // namespace chrysopedia::http

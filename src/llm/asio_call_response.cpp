#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "llm/asio_call_impl.hpp"
#include "llm/drain_aware_buffer.hpp"

// The request on its way out and the response on its way in: the parser's
// events, pauses the consumer asks for, and reads paced in bursts.
namespace chrysopedia::llm {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// One read takes what a burst of tokens brings (curl's buffer was the same).
constexpr std::size_t kReadBuffer = 8192;
// But at a model's pace a read brings one event of a few hundred bytes, and
// a stream waiting for its next token holds its read's buffer all the while:
// reads start this small and grow (to kReadBuffer) only while each fills
// what it was given, so thousands of paced streams do not hold 8 KiB each.
constexpr std::size_t kFirstRead = 512;
// A bursting upstream is read at most this often (the same window as the
// session's write coalescing: reads and writes then batch alike).
constexpr auto kReadPace = std::chrono::milliseconds(2);
}  // namespace

void AsioCall::on_header(std::string_view name, std::string_view value) {
  if (events_) events_->on_header(name, value);
}

std::size_t AsioCall::on_body(std::string_view bytes, error_code& ec) {
  return take_body(bytes, ec);
}

std::size_t AsioCall::take_body(std::string_view bytes, error_code& ec) {
  if (paused_ || !pending_.empty()) {
    pending_.append(bytes);
    return bytes.size();
  }
  if (!deliver(bytes)) ec = net::error::operation_aborted;
  return bytes.size();
}

bool AsioCall::deliver(std::string_view bytes) {
  if (!events_) return false;
  switch (events_->on_body(status_, bytes)) {
    case CallEvents::Take::all:
      return true;
    case CallEvents::Take::pause:
      paused_ = true;
      pending_.assign(bytes);
      return true;
    case CallEvents::Take::abort:
      aborted_ = true;
      return false;
  }
  return true;
}

net::awaitable<CallOutcome> AsioCall::call() {
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
    if (stopped()) co_return CallOutcome{};
    if (write_ec) {
      // A pooled connection the server closed meanwhile: a fresh one.
      if (reused) {
        close();
        continue;
      }
      co_return failure(LlmError::Kind::connect, "cannot reach the upstream: " + write_ec.message(),
                        true);
    }
    buffer_.clear();
    buffer_.reserve(kFirstRead);
    error_code header_ec;
    for (;;) {
      parser_.emplace(static_cast<ResponseParser::Sink&>(*this));
      parser_->header_limit(64 * 1024);
      parser_->body_limit(boost::none);
      auto [ec, header_bytes] = co_await bhttp::async_read_header(
          socket_, buffer_, *parser_, net::as_tuple(net::use_awaitable));
      header_ec = ec;
      if (stopped()) co_return CallOutcome{};
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
    // Answered: no attempt of this call sends the request again, and the
    // answer may stream for minutes.
    std::string().swap(head_);
    // Every event a read brought, in one go (reading the header turned
    // this off): otherwise each read_some parses one chunk and completes,
    // the consumer wakes between them and writes each token on its own.
    parser_->eager(true);
    bool buffered = buffer_.size() > 0;  // body bytes that came with the header
    std::size_t read_size = kFirstRead;
    while (!parser_->is_done()) {
      if (paused_ || !pending_.empty()) {
        if (!co_await deliver_held()) co_return CallOutcome{};
        continue;
      }
      if (buffered) {
        // The parser is eager: one put takes every event the buffer holds
        // and stops at a partial one (need_more), which the next read ends.
        error_code parse_ec;
        buffer_.consume(parser_->put(buffer_.data(), parse_ec));
        if (events_) events_->on_read_end();
        if (stopped() || aborted_) co_return CallOutcome{};
        if (parse_ec && parse_ec != bhttp::error::need_more) {
          co_return failure(LlmError::Kind::truncated,
                            "the upstream sent a malformed response: " + parse_ec.message(), false);
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
        if (stopped()) co_return CallOutcome{};
      }
      const std::size_t room =
          std::max(read_size - std::min(read_size, buffer_.size()), read_size / 4);
      auto space = buffer_.prepare(room);
      read_started_ = Clock::now();
      // A read the kernel says left the socket empty lets the reactor wait
      // for the next token instead of trying a read that finds nothing.
      const DrainAwareBuffer drain_aware{space};
      auto [ec, n] =
          co_await socket_.async_read_some(drain_aware, net::as_tuple(net::use_awaitable));
      if (stopped()) co_return CallOutcome{};
      buffer_.commit(n);
      buffered = n > 0;
      if (n == space.size() && read_size < kReadBuffer) read_size *= 2;  // a burst
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
    if (!co_await deliver_held()) co_return CallOutcome{};
    if (parser_->keep_alive() && buffer_.size() == 0) {
      if (auto pool = pool_.lock()) pool->give_back(key_, std::move(socket_));
    }
    close();
    CallOutcome done;
    done.complete = true;
    co_return done;
  }
}

net::awaitable<bool> AsioCall::deliver_held() {
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
    if (events_) events_->on_read_end();
    if (stopped()) co_return false;
  }
  co_return true;
}

}  // namespace chrysopedia::llm

#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "llm/http_url.hpp"
#include "llm/keep_alive_pool.hpp"
#include "llm/response_parser.hpp"
#include "llm/upstream_call.hpp"

namespace chrysopedia::llm {

/// One request and its response, run by a coroutine on the loop. The
/// handle given to the caller cancels it; the coroutine keeps it alive
/// until it has unwound.
class AsioCall final : public std::enable_shared_from_this<AsioCall>, private ResponseParser::Sink {
 public:
  AsioCall(std::weak_ptr<KeepAlivePool> pool, boost::asio::io_context& ctx, HttpUrl url,
           const CallRequest& request, CallEvents& events);

  void begin();   // starts the coroutine, which holds the call until it ends
  void cancel();  // the handle is gone: no event follows
  void resume();  // the consumer takes bytes again after a pause
  bool request_sent() const { return sent_; }

 private:
  // Its life (asio_call.cpp): the coroutine, the total deadline, connecting.
  static boost::asio::awaitable<void> run(std::shared_ptr<AsioCall> self);
  boost::asio::awaitable<std::optional<CallOutcome>> connect();
  CallOutcome connect_timeout() const;
  static CallOutcome failure(LlmError::Kind kind, std::string what, bool retryable);
  bool stopped() const { return !events_ || timed_out_; }
  void stop();
  void close();

  // The call itself (asio_call_response.cpp): the request out (on a
  // pooled connection, or a fresh one when that one had closed), the
  // response in.
  boost::asio::awaitable<CallOutcome> call();
  void on_status(int code) override { status_ = code; }  // ResponseParser::Sink
  void on_header(std::string_view name, std::string_view value) override;
  std::size_t on_body(std::string_view bytes, boost::system::error_code& ec) override;
  // Bytes the consumer will not take now wait here (at most one read's
  // worth past its own limit) and the socket is not read until resume().
  std::size_t take_body(std::string_view bytes, boost::system::error_code& ec);
  // False when the consumer aborted the call.
  bool deliver(std::string_view bytes);
  // Waits for resume() and hands over what a pause held back, until the
  // consumer takes it all; false when the call ended meanwhile.
  boost::asio::awaitable<bool> deliver_held();

  std::weak_ptr<KeepAlivePool> pool_;
  HttpUrl url_;
  std::string key_;
  std::string head_;
  std::string_view body_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds total_timeout_;
  CallEvents* events_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer total_timer_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer resume_timer_;
  boost::asio::steady_timer pace_timer_;
  std::chrono::steady_clock::time_point read_started_;
  boost::beast::flat_buffer buffer_;
  std::optional<ResponseParser> parser_;
  std::string pending_;
  int status_ = 0;
  bool starting_ = false;  // inside begin(), where on_end must not be delivered
  bool sent_ = false;
  bool paused_ = false;
  bool aborted_ = false;
  bool timed_out_ = false;
  bool connect_timed_out_ = false;
  bool connected_ = false;
};

}  // namespace chrysopedia::llm

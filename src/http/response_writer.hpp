#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "chrysopedia/http/request.hpp"
#include "chrysopedia/http/server.hpp"
#include "http/cors.hpp"

namespace chrysopedia::http {

/// The output path of one connection, which its Session owns: a complete
/// response, or an event stream's head, chunks and end.
///
/// An event stream's events are appended to a buffer and the socket takes
/// them one write at a time, everything that queued up meanwhile in the
/// next write. So the handler does not wait for each event's write (a burst
/// of tokens is one syscall, not one each), and a reader that takes nothing
/// stops the handler once the buffer passes a bound. While the stream is
/// quiet, the heartbeat writes `: ping` comments.
class ResponseWriter {
 public:
  ResponseWriter(boost::beast::tcp_stream& stream, const ServerOptions& options);

  /// Before each request: who keeps the connection alive while a write is
  /// under way (the session), whether the client speaks HTTP/1.0 (an event
  /// stream is then sent as it is and ended by closing), and the CORS
  /// headers of the answer.
  void begin_request(std::weak_ptr<void> owner, bool http10, HeaderList cors);
  void set_cors(HeaderList cors) { cors_ = std::move(cors); }

  boost::asio::awaitable<void> write_response(const Request& request, Response&& response,
                                              bool keep_alive);
  boost::asio::awaitable<void> write_event_stream_head(
      const Request& request, bool keep_alive,
      std::vector<std::pair<std::string, std::string>> headers = {});
  boost::asio::awaitable<void> write_chunk(std::string_view payload);
  boost::asio::awaitable<void> write_last_chunk();
  /// Chunks written from now on wait for release() (or a drain), not for
  /// a turn of the loop; see EventStream::hold.
  void hold() { hold_ = true; }
  void release();
  /// While a handler runs: a `: ping` comment on a stream quiet for the
  /// heartbeat interval, and `on_broken` once a write fails (the session
  /// then ends the handler). A timer, not a coroutine: a stream waiting
  /// for its model holds no frame for it.
  void start_heartbeat(std::function<void()> on_broken);
  void stop_heartbeat();

  /// A write failed: the connection is unusable.
  bool broken() const { return broken_; }
  bool http10() const { return http10_; }
  /// The stream of the request just handled is over.
  void end_stream() { streaming_ = false; }

 private:
  boost::asio::awaitable<void> wait_for_writer();
  void schedule_flush();
  void start_flush();
  void on_flushed(const boost::system::error_code& ec);
  boost::asio::awaitable<void> drain();
  void throw_if_broken() const;
  void append_chunk(std::string_view payload);
  void arm_heartbeat();
  void beat();

  boost::beast::tcp_stream& stream_;
  const ServerOptions& options_;
  std::weak_ptr<void> owner_;
  HeaderList cors_;  // for the response being written now
  std::string out_;
  std::string in_flight_;
  bool writing_ = false;
  bool flush_posted_ = false;
  bool hold_ = false;
  boost::asio::steady_timer writer_done_;  // cancelled when a write ends
  boost::asio::steady_timer coalesce_;     // a held write's start
  boost::asio::steady_timer heartbeat_;
  std::function<void()> on_broken_;  // set while the heartbeat runs
  unsigned stream_writes_ = 0;       // writes since the stream opened
  bool broken_ = false;
  boost::system::error_code broken_ec_;
  bool streaming_ = false;
  bool http10_ = false;
  std::chrono::steady_clock::time_point last_write_;
};

}  // namespace chrysopedia::http

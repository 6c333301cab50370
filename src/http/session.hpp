#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "chrysopedia/http/request.hpp"
#include "chrysopedia/http/router.hpp"
#include "chrysopedia/http/server.hpp"
#include "http/cors.hpp"
#include "http/idle_connections.hpp"
#include "http/request_reader.hpp"

namespace chrysopedia::http {

class SessionRegistry;

/// One client connection: reads requests one after another (keep-alive),
/// hands each to its route, and writes the answer. Lives on one worker's
/// event loop and is only touched from it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, const ServerOptions& options,
          std::shared_ptr<const Router> router, SessionRegistry& registry, IdleConnections& idle);
  ~Session();

  boost::asio::awaitable<void> run();

  /// Server shutdown: an idle connection closes now, a busy one after its
  /// response.
  void begin_shutdown();

  /// Grace period over: close the socket, which cancels whatever runs on it.
  void force_close();

 private:
  friend class SessionExchange;
  enum class State { idle, reading, handling };

  boost::asio::awaitable<bool> read_request(
      boost::beast::http::request<boost::beast::http::string_body>& out);
  boost::asio::awaitable<void> reject(const Rejection& why, const RequestReader& reader);
  boost::asio::awaitable<void> refuse_idle_connection();
  boost::asio::awaitable<bool> handle(
      boost::beast::http::request<boost::beast::http::string_body> raw);
  boost::asio::awaitable<void> watch_client();
  boost::asio::awaitable<void> heartbeat();
  boost::asio::awaitable<void> write_response(const Request& request, Response&& response,
                                              bool keep_alive);
  boost::asio::awaitable<void> write_event_stream_head(const Request& request, bool keep_alive);
  boost::asio::awaitable<void> write_chunk(std::string_view payload);
  boost::asio::awaitable<void> write_last_chunk();
  boost::asio::awaitable<void> wait_for_writer();
  void schedule_flush();
  void start_flush();
  void on_flushed(const boost::system::error_code& ec);
  boost::asio::awaitable<void> drain();
  void throw_if_broken() const;
  boost::asio::awaitable<void> lingering_close();
  void close_socket();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  const ServerOptions& options_;
  std::shared_ptr<const Router> router_;
  SessionRegistry& registry_;
  State state_ = State::idle;
  bool closing_ = false;
  std::uint64_t served_ = 0;  // requests handled on this connection

  // An event stream's output: events are appended to out_ and the socket
  // takes them one write at a time, everything that queued up meanwhile in
  // the next write. So the handler does not wait for each event's write (a
  // burst of tokens is one syscall, not one each), and a reader that takes
  // nothing stops the handler once out_ passes a bound.
  std::string out_;
  std::string in_flight_;
  bool writing_ = false;
  bool flush_posted_ = false;
  boost::asio::steady_timer writer_done_;  // cancelled when a write ends
  boost::asio::steady_timer coalesce_;     // a held write's start
  unsigned stream_writes_ = 0;             // writes since the stream opened
  bool broken_ = false;                    // a write failed: the connection is unusable
  boost::system::error_code broken_ec_;
  bool streaming_ = false;
  // An HTTP/1.0 client cannot take chunked encoding: its event stream is
  // sent as it is and ended by closing the connection.
  bool http10_ = false;
  std::chrono::steady_clock::time_point last_write_;
  Cors cors_;
  HeaderList cors_headers_;   // for the response being written now
  std::string peer_address_;  // asked once: it cannot change on a connection
  RequestLimits limits_;
  IdleConnections& idle_;
  std::string idle_client_;          // this peer's key in idle_ ("" when not capped)
  IdleConnections::Slot idle_slot_;  // held while no request is being handled
};

}  // namespace chrysopedia::http

#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
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
#include "http/response_writer.hpp"

namespace chrysopedia::http {

class SessionExchange;
class SessionRegistry;

/// One client connection: reads requests one after another (keep-alive),
/// hands each to its route, and writes the answer. Lives on one worker's
/// event loop and is only touched from it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, const ServerOptions& options,
          std::shared_ptr<const Router> router, SessionRegistry& registry, IdleConnections& idle);
  ~Session();

  /// Runs the connection (run()) on its socket's loop, with the
  /// cancellation slot through which a client that leaves ends its handler.
  void start();

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
  // `raw` is moved from.
  boost::asio::awaitable<bool> handle(
      boost::beast::http::request<boost::beast::http::string_body>& raw);
  boost::asio::awaitable<void> respond_unrouted(SessionExchange& exchange, const Request& req,
                                                const Router::Match& match);
  boost::asio::awaitable<void> respond_failed(SessionExchange& exchange, const Request& req,
                                              std::exception_ptr failure);
  // While a handler runs, a read on the client's socket notices it leaving
  // and cancels the handler (client_left). A callback, not a coroutine run
  // beside the handler: the two spawned coroutines and their group cost a
  // stream more than a kilobyte.
  void watch_client();
  void stop_watching();
  // The client is gone (its socket closed, or a write to it failed): the
  // handler is cancelled, from the loop's next turn.
  void client_left();
  // For SessionExchange: the writer's, with the server's closing in mind.
  boost::asio::awaitable<void> write_response(const Request& request, Response&& response,
                                              bool keep_alive);
  boost::asio::awaitable<void> write_event_stream_head(
      const Request& request, bool keep_alive,
      std::vector<std::pair<std::string, std::string>> headers = {});
  boost::asio::awaitable<void> write_chunk(std::string_view payload);
  void hold_writes() { writer_.hold(); }
  void release_writes() { writer_.release(); }
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

  ResponseWriter writer_;
  Cors cors_;
  std::string peer_address_;  // asked once: it cannot change on a connection
  RequestLimits limits_;
  IdleConnections& idle_;
  std::string idle_client_;          // this peer's key in idle_ ("" when not capped)
  IdleConnections::Slot idle_slot_;  // held while no request is being handled
  // Emitted to run()'s coroutine, and so to the handler it runs, when the
  // client leaves. Shared with the coroutine's completion handler: the
  // coroutine's machinery may touch it after the session is gone.
  std::shared_ptr<boost::asio::cancellation_signal> cut_;
  boost::asio::cancellation_signal watch_cut_;  // ends the watch's read
  bool handler_running_ = false;
  bool watching_ = false;  // the watch's read is pending
  bool client_gone_ = false;
};

}  // namespace chrysopedia::http

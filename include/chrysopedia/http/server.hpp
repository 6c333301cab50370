#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chrysopedia/http/router.hpp"

namespace boost::asio {
class io_context;
}

namespace chrysopedia::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;  ///< 0 picks a free port; see Server::port()
  unsigned workers = 1;       ///< event loops, one thread each
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds request_timeout{15'000};
  std::chrono::milliseconds write_timeout{60'000};
  std::chrono::milliseconds heartbeat_interval{15'000};
  std::chrono::milliseconds shutdown_grace{25'000};
  /// Connections a client may hold while not in a request; 0: no cap.
  std::size_t max_idle_connections_per_client = 0;
  /// Peers not held to that cap (trusted proxies): IP addresses.
  std::vector<std::string> idle_cap_exempt;
  /// Origins (or `*`) whose pages may call us (CORS); empty: no CORS headers.
  std::vector<std::string> cors_allowed_origins;
  /// Told of each request answered, on its worker's thread: the pattern of
  /// the route its path matched ("" for none) and the status (0 when the
  /// client left before any answer). For metrics; must not block.
  std::function<void(std::string_view route, int status)> on_request;
};

/// The HTTP/1.1 server: one event loop per worker thread, each accepting on
/// the one listening socket and owning its connections outright.
class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<const Router> router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Called on each worker's thread before it serves, so per-loop clients
  /// (curl multi, Redis) can be made there. What it returns is kept until
  /// the loop has stopped and destroyed on that thread before the loop is.
  using WorkerHook = std::function<std::shared_ptr<void>(unsigned index, boost::asio::io_context&)>;
  void on_worker_start(WorkerHook hook);

  /// Binds and starts the workers. Throws std::system_error when the address
  /// cannot be bound.
  void start();

  /// The bound port (useful after binding port 0).
  std::uint16_t port() const;

  /// Graceful stop, callable from any thread: stop accepting, close idle
  /// connections, let open responses finish within the grace period, then
  /// close whatever is left.
  void stop();

  /// Blocks until every worker has finished.
  void wait();

  /// Number of connections open now (all workers).
  std::size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chrysopedia::http

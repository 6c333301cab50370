#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace chrysopedia::llm {

/// Idle keep-alive connections to model servers by "host:port", newest at
/// the back, for one event loop.
class KeepAlivePool {
 public:
  explicit KeepAlivePool(boost::asio::io_context& ctx) : ctx_(ctx) {}
  boost::asio::io_context& context() { return ctx_; }

  /// A live idle connection to `key`, if there is one (closed ones, and
  /// ones that hold stray bytes, are dropped on the way).
  std::optional<boost::asio::ip::tcp::socket> take(const std::string& key);
  /// Keeps a connection whose response was read in full; ones idle past
  /// the limit are closed.
  void give_back(const std::string& key, boost::asio::ip::tcp::socket socket);

 private:
  struct Idle {
    boost::asio::ip::tcp::socket socket;
    std::chrono::steady_clock::time_point since;
  };
  boost::asio::io_context& ctx_;
  std::unordered_map<std::string, std::deque<Idle>> idle_;
};

}  // namespace chrysopedia::llm

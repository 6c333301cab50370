#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "chrysopedia/config/redis_url.hpp"

struct redisAsyncContext;

namespace chrysopedia::history {

/// A reply, copied out of hiredis's.
struct RedisReply {
  enum class Type { nil, string, integer, array, status, error } type = Type::nil;
  std::string str;
  long long integer = 0;
  std::vector<RedisReply> elements;
};

/// One hiredis asynchronous connection driven by one Asio event loop: an
/// adapter turns hiredis's read/write interest into waits on the socket.
/// Commands are pipelined; each has its own deadline. AUTH and SELECT are
/// sent on every (re)connect; a lost connection is re-made with backoff, and
/// while there is none, commands fail at once instead of queueing.
class RedisConnection {
 public:
  RedisConnection(boost::asio::io_context& ctx, config::RedisEndpoint endpoint);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Runs one command. Throws HistoryError on timeout, a lost or absent
  /// connection, or an error reply. Cancellable.
  boost::asio::awaitable<RedisReply> command(std::vector<std::string> argv,
                                             std::chrono::milliseconds timeout);

  bool connected() const { return connected_; }

  // Implementation details, public only for the C callbacks in the .cpp.
  struct Io;
  struct Pending;

 private:
  void connect();
  void schedule_reconnect();
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  void send(std::shared_ptr<Pending> pending, const std::vector<std::string>& argv);

  boost::asio::io_context& ctx_;
  config::RedisEndpoint endpoint_;
  redisAsyncContext* ac_ = nullptr;
  std::shared_ptr<Io> io_;
  bool connected_ = false;
  bool closing_ = false;
  std::chrono::milliseconds backoff_{100};
  boost::asio::steady_timer reconnect_timer_;
};

}  // namespace chrysopedia::history

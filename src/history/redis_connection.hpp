#pragma once

#include <chrono>
#include <functional>
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

  /// The same, for a caller on this loop that wants no coroutine: `done`
  /// gets the reply (an error reply as it is) or the failure, once, on
  /// this loop (never before this returns).
  void command_then(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                    std::function<void(std::exception_ptr, RedisReply)> done);

  bool connected() const { return connected_; }

  /// Subscribes this connection to `channel` (it serves no commands after):
  /// `on_message` gets each message's payload, on this loop. Subscribed
  /// again on every reconnect; what was published while the connection was
  /// down is lost (pub/sub keeps nothing), so callers keep another path.
  void subscribe(std::string channel, std::function<void(const std::string&)> on_message);

  // Implementation details, public only for the C callbacks in the .cpp.
  struct Io;
  struct Pending;

 private:
  void connect();
  void schedule_reconnect();
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_subscribed(redisAsyncContext* ac, void* reply, void* privdata);
  void send_subscribe();
  void send(std::shared_ptr<Pending> pending, const std::vector<std::string>& argv);

  boost::asio::io_context& ctx_;
  config::RedisEndpoint endpoint_;
  redisAsyncContext* ac_ = nullptr;
  std::shared_ptr<Io> io_;
  bool connected_ = false;
  bool closing_ = false;
  std::chrono::milliseconds backoff_{100};
  boost::asio::steady_timer reconnect_timer_;
  std::string channel_;  // subscribed to, if not empty
  std::function<void(const std::string&)> on_message_;
};

}  // namespace chrysopedia::history

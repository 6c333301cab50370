#pragma once

#include <chrono>

#include <optional>
#include <string>

#include "history/redis_connection.hpp"

namespace chrysopedia::history {

/// The fleet's rate-limit buckets in Redis: `chrysopedia:rate:{client}`, a
/// hash of tokens and the time they were counted, taken from by one script
/// (atomic across replicas, on Redis's clock so that replicas' clocks do
/// not matter), expiring once a bucket would be full again.
class RedisRateLimit {
 public:
  RedisRateLimit(RedisConnection& connection,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(250));

  struct Taken {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  ///< when refused, >= 1
  };
  /// One request from `client`'s bucket; nullopt when Redis cannot answer
  /// (not connected, slow, failing).
  boost::asio::awaitable<std::optional<Taken>> take(const std::string& client, double per_minute,
                                                    double burst);

 private:
  RedisConnection& connection_;
  std::chrono::milliseconds timeout_;
};

}  // namespace chrysopedia::history

#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chrysopedia/http/fleet_rate_limit.hpp"

namespace chrysopedia::http {

/// Token buckets per client: each holds up to `burst` requests and refills
/// at `per_minute` a minute. One table for the whole process behind a mutex
/// (not one per worker, which would give a client N times the limit over N
/// event loops); the lock covers a hash lookup and a list splice, nothing
/// that allocates except a client's first request.
///
/// The table is bounded: a bucket left alone long enough to refill is the
/// same as no bucket and is dropped, and past `max_clients` the least
/// recently seen is dropped, so a flood of distinct addresses costs at most
/// `max_clients` entries (roughly 150 bytes each). Dropping a live bucket
/// only ever hands that client a fresh burst, never refuses anyone.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  RateLimiter(double per_minute, double burst, std::size_t max_clients = 65'536,
              Now now = &Clock::now);

  using Decision = RateDecision;

  /// Takes one request from `client`'s bucket.
  Decision take(std::string_view client);

  /// Buckets held now.
  std::size_t size() const;

 private:
  struct Bucket {
    std::string client;
    double tokens;
    Clock::time_point last;
  };
  void evict_idle(Clock::time_point now);

  const double per_second_;
  const double burst_;
  const std::size_t max_clients_;
  const Clock::duration refill_time_;  // empty to full
  const Now now_;

  mutable std::mutex mutex_;
  std::list<Bucket> recent_;  // most recently seen first
  // Keys view the Bucket's own string: list nodes never move.
  std::unordered_map<std::string_view, std::list<Bucket>::iterator> index_;
};

}  // namespace chrysopedia::http

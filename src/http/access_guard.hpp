#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chrysopedia/http/fleet_rate_limit.hpp"
#include "chrysopedia/http/router.hpp"
#include "http/api_keys.hpp"
#include "http/client_address.hpp"
#include "http/rate_limiter.hpp"
#include "http/stream_limiter.hpp"

namespace chrysopedia::http {

struct AccessOptions {
  std::vector<std::string> api_keys;  ///< empty: no key needed
  std::vector<IpAddress> trusted_proxies;
  double rate_per_minute = 0;  ///< 0: no rate limit
  double rate_burst = 20;
  std::size_t max_streams = 0;  ///< 0: no cap
  std::size_t max_rate_clients = 65'536;
  /// The calling loop's fleet-wide buckets (Redis), or null: then, and
  /// while they cannot answer, this process's own table decides.
  std::function<FleetRateLimit*()> fleet;
};

/// The abuse limits in front of the API routes, in this order: the rate
/// limit (429; keyed by client address and, with keys on, by which key, so
/// guessing keys is throttled too), the API key (401), the stream cap (503,
/// before the handler does any search or upstream work). Routes not put
/// behind it (health, metrics, the page, CORS preflights) stay open.
class AccessGuard {
 public:
  explicit AccessGuard(AccessOptions options, RateLimiter::Now now = &RateLimiter::Clock::now);

  /// `handler` behind the checks; `opens_stream` also holds a stream slot
  /// for as long as it runs.
  Handler protect(Handler handler, bool opens_stream);

  struct Verdict {
    std::optional<Response> refusal;  ///< set: answer this and stop
    std::optional<StreamLimiter::Slot> slot;
    std::string owner;  ///< Request::owner for an admitted request
  };
  Verdict check(const Request& request, bool opens_stream);
  /// The same, with the rate decided already (by the fleet's buckets).
  Verdict check(const Request& request, bool opens_stream,
                const std::optional<RateDecision>& decided);

  /// The rate limit's key for a request: its client address and, with
  /// keys on, which key it presented (its position, never the key).
  std::string rate_client(const Request& request) const;

  /// Whether the last rate decision came from the fleet's buckets.
  bool fleet_shared() const { return fleet_shared_.load(std::memory_order_relaxed); }

  bool enabled() const;

 private:
  // With `key` the position of the key the request presented (-1: none).
  std::string rate_client(const Request& request, int key) const;
  boost::asio::awaitable<void> run(const Handler& handler, Exchange& exchange, bool opens_stream);

  ApiKeys keys_;
  std::vector<IpAddress> trusted_proxies_;
  std::unique_ptr<RateLimiter> rate_;       // null: off
  std::unique_ptr<StreamLimiter> streams_;  // null: off
  double rate_per_minute_ = 0;
  double rate_burst_ = 0;
  std::function<FleetRateLimit*()> fleet_;
  std::atomic<bool> fleet_shared_{false};
  std::atomic<int> fleet_state_{0};  // 0 unknown, 1 shared, 2 local: logged on change
};

}  // namespace chrysopedia::http

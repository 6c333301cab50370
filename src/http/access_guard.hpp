#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

  bool enabled() const;

 private:
  boost::asio::awaitable<void> run(const Handler& handler, Exchange& exchange, bool opens_stream);

  ApiKeys keys_;
  std::vector<IpAddress> trusted_proxies_;
  std::unique_ptr<RateLimiter> rate_;       // null: off
  std::unique_ptr<StreamLimiter> streams_;  // null: off
};

}  // namespace chrysopedia::http

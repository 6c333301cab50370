#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

namespace chrysopedia::http {

/// Whether a request may go on, and if not, when to retry.
struct RateDecision {
  bool allowed = true;
  /// When refused: whole seconds until one request's worth has refilled (>= 1).
  std::chrono::seconds retry_after{0};
};

/// Rate-limit buckets shared by every replica of the service (SPEC §11:
/// one bucket per client across the fleet), kept where they all see them.
class FleetRateLimit {
 public:
  virtual ~FleetRateLimit() = default;
  /// Takes one request from `client`'s bucket (holding up to `burst`,
  /// refilling at `per_minute`); nullopt when the shared store cannot
  /// answer now, and the caller decides with its own table.
  virtual boost::asio::awaitable<std::optional<RateDecision>> take(const std::string& client,
                                                                   double per_minute,
                                                                   double burst) = 0;
};

}  // namespace chrysopedia::http

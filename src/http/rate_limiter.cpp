#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace chrysopedia::http {

namespace {

// Idle buckets dropped per request at most: spreads the clean-up after a
// flood over the requests that follow instead of stalling one of them.
constexpr int kEvictPerTake = 8;

}  // namespace

RateLimiter::RateLimiter(double per_minute, double burst, std::size_t max_clients, Now now)
    : per_second_(per_minute / 60.0),
      burst_(std::max(1.0, burst)),
      max_clients_(std::max<std::size_t>(1, max_clients)),
      refill_time_(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(burst_ / per_second_))),
      now_(std::move(now)) {}

void RateLimiter::evict_idle(Clock::time_point now) {
  for (int i = 0; i < kEvictPerTake && !recent_.empty(); ++i) {
    const auto& oldest = recent_.back();
    if (now - oldest.last < refill_time_) break;
    index_.erase(oldest.client);
    recent_.pop_back();
  }
}

RateLimiter::Decision RateLimiter::take(std::string_view client) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  evict_idle(now);
  auto it = index_.find(client);
  if (it == index_.end()) {
    if (index_.size() >= max_clients_) {
      index_.erase(recent_.back().client);
      recent_.pop_back();
    }
    recent_.push_front(Bucket{std::string(client), burst_ - 1, now});
    index_.emplace(recent_.front().client, recent_.begin());
    return {};
  }
  recent_.splice(recent_.begin(), recent_, it->second);
  Bucket& b = *it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * per_second_);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait = std::ceil((1.0 - b.tokens) / per_second_);
  return {false, std::chrono::seconds(std::max<long long>(1, static_cast<long long>(wait)))};
}

std::size_t RateLimiter::size() const {
  std::lock_guard lock(mutex_);
  return index_.size();
}

}  // namespace chrysopedia::http

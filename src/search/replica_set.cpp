#include "search/replica_set.hpp"

#include <spdlog/spdlog.h>

namespace chrysopedia::search {

ReplicaSet::ReplicaSet(std::size_t standbys, std::chrono::milliseconds max_lag)
    : max_lag_(max_lag), standbys_(standbys) {}

int ReplicaSet::pick() {
  std::lock_guard lock(mutex_);
  for (std::size_t tried = 0; tried < standbys_.size(); ++tried) {
    const std::size_t i = turn_++ % standbys_.size();
    if (standbys_[i].usable) return static_cast<int>(i);
  }
  return kPrimary;
}

std::vector<std::size_t> ReplicaSet::due_checks(Clock::time_point now) {
  std::vector<std::size_t> due;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < standbys_.size(); ++i) {
    auto& s = standbys_[i];
    if (s.checking || now < s.next_check) continue;
    s.checking = true;
    due.push_back(i);
  }
  return due;
}

void ReplicaSet::checked(std::size_t standby, std::optional<std::chrono::milliseconds> lag,
                         Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& s = standbys_.at(standby);
  s.checking = false;
  const bool well = lag && *lag <= max_lag_;
  // One that does not answer is not asked every second; one that answers
  // but lags is, to take it back as soon as it catches up.
  s.next_check = now + (lag ? std::chrono::seconds(kCheckEvery) : kRetryFailedAfter);
  if (well) {
    set_usable(standby, true, "caught up");
  } else if (lag) {
    spdlog::debug("search_standby_lag standby={} lag_ms={}", standby, lag->count());
    set_usable(standby, false, "lagging");
  } else {
    set_usable(standby, false, "check failed");
  }
}

void ReplicaSet::failed(std::size_t standby, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& s = standbys_.at(standby);
  set_usable(standby, false, "search failed");
  if (!s.checking) s.next_check = std::max(s.next_check, now + kRetryFailedAfter);
}

std::size_t ReplicaSet::usable_count() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& s : standbys_) n += s.usable;
  return n;
}

void ReplicaSet::set_usable(std::size_t i, bool usable, const char* why) {
  auto& s = standbys_[i];
  if (s.usable == usable) return;
  s.usable = usable;
  if (usable) {
    spdlog::info("search_standby_in standby={} reason=\"{}\"", i, why);
  } else {
    spdlog::warn(
        "search_standby_out standby={} reason=\"{}\" (searches go to the others, or "
        "the primary)",
        i, why);
  }
}

}  // namespace chrysopedia::search

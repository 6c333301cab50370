#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace chrysopedia::search {

/// Which Postgres a search reads from (SPEC §11): the hot standbys in turn
/// while they answer and keep up, else the primary. A standby is used only
/// after a check found it streaming within the allowed lag; a search that
/// failed on it, or a check that failed or found it behind, takes it out
/// until a later check finds it well. Checks are the caller's to run (on
/// the standby's own pool thread); this holds the state. Thread-safe.
class ReplicaSet {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kPrimary = -1;
  /// How often a usable standby's lag is read, and how long one that failed
  /// is left alone before it is tried again.
  static constexpr std::chrono::seconds kCheckEvery{1};
  static constexpr std::chrono::seconds kRetryFailedAfter{5};

  ReplicaSet(std::size_t standbys, std::chrono::milliseconds max_lag);

  /// The standby for the next search (the usable ones in turn), or kPrimary.
  int pick();

  /// The standbys whose check is due now (none already under way); they
  /// count as under way until `checked` is called for them.
  std::vector<std::size_t> due_checks(Clock::time_point now);

  /// A check's outcome: the standby's lag, or nothing when the check failed
  /// or found it not streaming from the primary.
  void checked(std::size_t standby, std::optional<std::chrono::milliseconds> lag,
               Clock::time_point now);

  /// A search on the standby failed: skipped until a check finds it well.
  void failed(std::size_t standby, Clock::time_point now);

  std::size_t size() const { return standbys_.size(); }
  std::size_t usable_count() const;

 private:
  struct Standby {
    bool usable = false;
    bool checking = false;
    Clock::time_point next_check{};  // the epoch: checked at once
  };
  void set_usable(std::size_t i, bool usable, const char* why);

  const std::chrono::milliseconds max_lag_;
  mutable std::mutex mutex_;
  std::vector<Standby> standbys_;
  std::size_t turn_ = 0;
};

}  // namespace chrysopedia::search

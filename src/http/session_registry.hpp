#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <unordered_set>
#include <utility>

namespace chrysopedia::http {

class Session;

/// The connections of one worker, so shutdown can reach them. Touched only
/// from that worker's event loop, so it needs no lock.
class SessionRegistry {
 public:
  void add(Session* s) {
    sessions_.insert(s);
    count_ = sessions_.size();
    peak_ = std::max(peak_, sessions_.size());
  }
  void remove(Session* s) {
    sessions_.erase(s);
    count_ = sessions_.size();
    if (sessions_.empty() && on_empty_) on_empty_();
  }
  bool empty() const { return sessions_.empty(); }
  /// Safe to read from any thread.
  std::size_t size() const { return count_.load(std::memory_order_relaxed); }
  template <typename F>
  void for_each(F&& f) {
    // Copy first: a callback may close a session, which removes it.
    const std::unordered_set<Session*> snapshot = sessions_;
    for (Session* s : snapshot) {
      if (sessions_.count(s)) f(*s);
    }
  }
  void on_empty(std::function<void()> f) { on_empty_ = std::move(f); }
  /// The most connections open at once since the last call.
  std::size_t take_peak() { return std::exchange(peak_, sessions_.size()); }

 private:
  std::unordered_set<Session*> sessions_;
  std::function<void()> on_empty_;
  std::size_t peak_ = 0;
  std::atomic<std::size_t> count_{0};
};

}  // namespace chrysopedia::http

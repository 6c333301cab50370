#pragma once

#include <atomic>
#include <cstddef>
#include <optional>

namespace chrysopedia::http {

/// A process-wide cap on open event streams: each stream holds a Slot for
/// as long as its handler runs. One atomic counter shared by every worker,
/// so the cap holds however the streams spread over the event loops.
class StreamLimiter {
 public:
  explicit StreamLimiter(std::size_t max_streams) : max_(max_streams) {}

  class Slot {
   public:
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        release();
        owner_ = other.owner_;
        other.owner_ = nullptr;
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    ~Slot() { release(); }

   private:
    friend class StreamLimiter;
    explicit Slot(StreamLimiter* owner) : owner_(owner) {}
    void release() {
      if (owner_) owner_->open_.fetch_sub(1, std::memory_order_relaxed);
      owner_ = nullptr;
    }
    StreamLimiter* owner_;
  };

  /// A slot, or nullopt when `max_streams` are open already.
  std::optional<Slot> try_acquire() {
    // Optimistic add: two racing for the last slot may both be refused for
    // a moment, never both admitted.
    if (open_.fetch_add(1, std::memory_order_relaxed) >= max_) {
      open_.fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return Slot(this);
  }

  std::size_t open() const { return open_.load(std::memory_order_relaxed); }
  std::size_t max() const { return max_; }

 private:
  const std::size_t max_;
  std::atomic<std::size_t> open_{0};
};

}  // namespace chrysopedia::http

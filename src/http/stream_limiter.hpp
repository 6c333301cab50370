#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace chrysopedia::http {

/// A process-wide cap on open event streams: each stream holds a Slot for
/// as long as its handler runs (or the answer it started, detached, goes
/// on). One atomic counter shared by every worker, so the cap holds however
/// the streams spread over the event loops; shared with the slots too, as a
/// detached answer's may be let go after the server is.
class StreamLimiter {
 public:
  explicit StreamLimiter(std::size_t max_streams) : max_(max_streams) {}

  class Slot {
   public:
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        release();
        open_ = std::move(other.open_);
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    ~Slot() { release(); }

   private:
    friend class StreamLimiter;
    explicit Slot(std::shared_ptr<std::atomic<std::size_t>> open) : open_(std::move(open)) {}
    void release() {
      if (open_) open_->fetch_sub(1, std::memory_order_relaxed);
      open_.reset();
    }
    std::shared_ptr<std::atomic<std::size_t>> open_;
  };

  /// A slot, or nullopt when `max_streams` are open already.
  std::optional<Slot> try_acquire() {
    // Optimistic add: two racing for the last slot may both be refused for
    // a moment, never both admitted.
    if (open_->fetch_add(1, std::memory_order_relaxed) >= max_) {
      open_->fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return Slot(open_);
  }

  std::size_t open() const { return open_->load(std::memory_order_relaxed); }
  std::size_t max() const { return max_; }

 private:
  const std::size_t max_;
  std::shared_ptr<std::atomic<std::size_t>> open_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace chrysopedia::http

#pragma once

#include <chrono>
#include <cstddef>

#include "chrysopedia/observability/metrics.hpp"

namespace chrysopedia::chat {

/// The metrics of one chat's event stream, from its opening (construction)
/// to its end (destruction, however the coroutine unwinds).
class StreamMetrics {
 public:
  using Clock = std::chrono::steady_clock;

  StreamMetrics(Clock::time_point request_arrived,
                observability::ServiceMetrics& m = observability::service_metrics())
      : m_(m), arrived_(request_arrived), opened_(Clock::now()) {
    m_.streams_open.inc();
  }
  ~StreamMetrics() {
    m_.streams_open.dec();
    m_.stream_duration.observe(seconds_since(opened_));
  }
  StreamMetrics(const StreamMetrics&) = delete;
  StreamMetrics& operator=(const StreamMetrics&) = delete;

  /// A token event was sent.
  void token() {
    if (!first_token_seen_) {
      first_token_seen_ = true;
      m_.time_to_first_token.observe(seconds_since(arrived_));
    }
    m_.tokens_relayed.inc();
  }

  void search_done(Clock::time_point started, bool failed) {
    m_.search_latency.observe(seconds_since(started));
    if (failed) m_.search_errors.inc();
  }

  void llm_failed() { m_.llm_errors.inc(); }

  /// An answer ended citing `valid` listed sources and `invalid` numbers
  /// that name none.
  void citations(std::size_t valid, std::size_t invalid) {
    m_.citations.inc(valid);
    m_.invalid_citations.inc(invalid);
  }

 private:
  static double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  }
  observability::ServiceMetrics& m_;
  Clock::time_point arrived_;
  Clock::time_point opened_;
  bool first_token_seen_ = false;
};

}  // namespace chrysopedia::chat

#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chrysopedia::observability {

using Labels = std::vector<std::pair<std::string, std::string>>;

namespace detail {
/// Updates are spread over this many cache lines, one picked per thread, so
/// workers counting tokens never fight over one line; a scrape sums them.
inline constexpr std::size_t kShards = 16;
std::size_t shard_of_this_thread();
struct alignas(64) Cell {
  std::atomic<std::uint64_t> v{0};
};
}  // namespace detail

/// A monotonically increasing count. `inc` is one relaxed atomic add.
class Counter {
 public:
  void inc(std::uint64_t n = 1) {
    cells_[detail::shard_of_this_thread()].v.fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t value() const;

 private:
  std::array<detail::Cell, detail::kShards> cells_;
};

/// A value that goes up and down (open streams).
class Gauge {
 public:
  void add(std::int64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
  void inc() { add(1); }
  void dec() { add(-1); }
  void set(std::int64_t n) { v_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

/// Observations counted into fixed buckets (upper bounds, ascending; `+Inf`
/// is implicit), sharded like Counter.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  ///< per bound, then +Inf (= count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  // Per shard: the sum (as double bits), then one count per bucket.
  struct alignas(64) Line {
    std::array<std::atomic<std::uint64_t>, 8> v{};
  };
  std::atomic<std::uint64_t>& slot(std::size_t shard, std::size_t i);
  const std::atomic<std::uint64_t>& slot(std::size_t shard, std::size_t i) const;

  std::vector<double> bounds_;
  std::size_t lines_per_shard_;
  std::vector<Line> lines_;
};

/// Named series, rendered in the Prometheus text exposition format 0.0.4.
/// Registering takes a lock and returns a reference that stays valid for the
/// registry's life; updating a series takes none.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       const Labels& labels = {});

  /// Every series, families in registration order.
  std::string expose() const;

 private:
  struct Family;
  Family& family(const std::string& name, const std::string& help, const char* type);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
};

/// The series the service reports on /metrics (SPEC §6).
class ServiceMetrics {
 public:
  explicit ServiceMetrics(Registry& registry);

  /// One answered request; `route` is the route's pattern, never the raw path.
  void request(std::string_view route, int status);

  Gauge& streams_open;
  Counter& tokens_relayed;
  Counter& llm_errors;
  Counter& search_errors;
  Counter& citations;          ///< citations of listed sources in answers
  Counter& invalid_citations;  ///< numbers cited that name no listed source
  Histogram& time_to_first_token;
  Histogram& search_latency;
  Histogram& stream_duration;
  Gauge& rate_limit_shared;  ///< 1: the fleet's buckets (Redis) decide; 0: this replica's own

  Registry& registry() { return registry_; }

 private:
  Registry& registry_;
  std::uint64_t id_;  // keys the per-thread cache of request counters
};

/// The process's registry and series: one process, one /metrics page.
Registry& default_registry();
ServiceMetrics& service_metrics();

}  // namespace chrysopedia::observability

#include "chrysopedia/observability/metrics.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

namespace chrysopedia::observability {

namespace detail {

std::size_t shard_of_this_thread() {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shard;
}

}  // namespace detail

std::uint64_t Counter::value() const {
  std::uint64_t total = 0;
  for (const auto& c : cells_) total += c.v.load(std::memory_order_relaxed);
  return total;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::invalid_argument("histogram bounds must ascend");
  }
  const std::size_t slots = 1 + bounds_.size() + 1;  // sum, buckets, +Inf
  lines_per_shard_ = (slots + 7) / 8;
  lines_ = std::vector<Line>(detail::kShards * lines_per_shard_);
}

std::atomic<std::uint64_t>& Histogram::slot(std::size_t shard, std::size_t i) {
  return lines_[shard * lines_per_shard_ + i / 8].v[i % 8];
}

const std::atomic<std::uint64_t>& Histogram::slot(std::size_t shard, std::size_t i) const {
  return lines_[shard * lines_per_shard_ + i / 8].v[i % 8];
}

void Histogram::observe(double value) {
  const std::size_t shard = detail::shard_of_this_thread();
  const auto bucket =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                               bounds_.begin());  // le: a value on a bound counts in it
  slot(shard, 1 + bucket).fetch_add(1, std::memory_order_relaxed);
  // Only threads sharing this shard contend here, so the loop rarely repeats.
  auto& sum = slot(shard, 0);
  std::uint64_t old = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(
      old, std::bit_cast<std::uint64_t>(std::bit_cast<double>(old) + value),
      std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::vector<std::uint64_t> per_bucket(bounds_.size() + 1, 0);
  for (std::size_t shard = 0; shard < detail::kShards; ++shard) {
    s.sum += std::bit_cast<double>(slot(shard, 0).load(std::memory_order_relaxed));
    for (std::size_t b = 0; b < per_bucket.size(); ++b) {
      per_bucket[b] += slot(shard, 1 + b).load(std::memory_order_relaxed);
    }
  }
  std::uint64_t running = 0;
  for (auto n : per_bucket) {
    running += n;
    s.cumulative.push_back(running);
  }
  s.count = running;
  return s;
}

namespace {

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `a="x",b="y"` (no braces), so a histogram can append `le`.
std::string label_text(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k + "=\"" + escape_label_value(v) + "\"";
  }
  return out;
}

std::string braced(const std::string& inner) {
  return inner.empty() ? std::string() : "{" + inner + "}";
}

std::string number(double v) {
  return fmt::format("{}", v);
}

}  // namespace

struct Registry::Family {
  std::string name, help, type;
  struct Series {
    std::string labels;  // rendered, also the key
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::vector<std::unique_ptr<Series>> series;

  Series& find_or_add(const Labels& labels) {
    auto text = label_text(labels);
    for (auto& s : series) {
      if (s->labels == text) return *s;
    }
    series.push_back(std::make_unique<Series>());
    series.back()->labels = std::move(text);
    return *series.back();
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(const std::string& name, const std::string& help,
                                   const char* type) {
  for (auto& f : families_) {
    if (f->name == name) {
      if (f->type != type) throw std::logic_error("metric " + name + " registered as " + f->type);
      return *f;
    }
  }
  families_.push_back(std::make_unique<Family>());
  auto& f = *families_.back();
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& s = family(name, help, "counter").find_or_add(labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& s = family(name, help, "gauge").find_or_add(labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               std::vector<double> bounds, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& s = family(name, help, "histogram").find_or_add(labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

std::string Registry::expose() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& f : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f->name, escape_help(f->help), f->name,
                       f->type);
    for (const auto& s : f->series) {
      if (s->counter) {
        out += fmt::format("{}{} {}\n", f->name, braced(s->labels), s->counter->value());
      } else if (s->gauge) {
        out += fmt::format("{}{} {}\n", f->name, braced(s->labels), s->gauge->value());
      } else if (s->histogram) {
        const auto snap = s->histogram->snapshot();
        const auto& bounds = s->histogram->bounds();
        const std::string sep = s->labels.empty() ? "" : ",";
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
          const std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
          out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", f->name, s->labels, sep, le,
                             snap.cumulative[i]);
        }
        out += fmt::format("{}_sum{} {}\n", f->name, braced(s->labels), number(snap.sum));
        out += fmt::format("{}_count{} {}\n", f->name, braced(s->labels), snap.count);
      }
    }
  }
  return out;
}

namespace {

// Seconds, from a millisecond to a minute: covers a cached search and a
// long answer alike.
std::vector<double> latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> duration_bounds() {
  return {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

// Not the address: a later instance may reuse it while a thread's cache
// still points into the old one.
std::uint64_t next_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

ServiceMetrics::ServiceMetrics(Registry& registry)
    : streams_open(
          registry.gauge("chrysopedia_sse_streams_open", "Server-Sent Event streams open now.")),
      tokens_relayed(registry.counter("chrysopedia_tokens_relayed_total",
                                      "Answer text deltas (token events) sent to clients.")),
      llm_errors(registry.counter("chrysopedia_upstream_errors_total",
                                  "Failed calls to an upstream, by upstream.",
                                  {{"upstream", "llm"}})),
      search_errors(registry.counter("chrysopedia_upstream_errors_total",
                                     "Failed calls to an upstream, by upstream.",
                                     {{"upstream", "search"}})),
      citations(registry.counter("chrysopedia_citations_total",
                                 "Sources cited in answers, each once an answer, by validity.",
                                 {{"valid", "true"}})),
      invalid_citations(registry.counter(
          "chrysopedia_citations_total",
          "Sources cited in answers, each once an answer, by validity.", {{"valid", "false"}})),
      time_to_first_token(registry.histogram(
          "chrysopedia_time_to_first_token_seconds",
          "From a chat request's arrival to its first token event.", latency_bounds())),
      search_latency(registry.histogram("chrysopedia_search_latency_seconds",
                                        "One search cascade, queueing for a connection included.",
                                        latency_bounds())),
      stream_duration(registry.histogram("chrysopedia_stream_duration_seconds",
                                         "From opening a chat's event stream to its end.",
                                         duration_bounds())),
      rate_limit_shared(registry.gauge(
          "chrysopedia_rate_limit_shared",
          "1 while the rate limit's buckets are shared by every replica (Redis answers), 0 while "
          "this replica's own decide.")),
      registry_(registry),
      id_(next_id()) {}

void ServiceMetrics::request(std::string_view route, int status) {
  // A lookup under the registry's lock happens once per thread and series;
  // after that a request costs a hash lookup and an atomic add.
  struct Key {
    std::uint64_t owner;
    std::string route;
    int status;
    bool operator==(const Key&) const = default;
  };
  struct Hash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::string>()(k.route) ^ (std::hash<std::uint64_t>()(k.owner) << 1) ^
             static_cast<std::size_t>(k.status) * 31;
    }
  };
  thread_local std::unordered_map<Key, Counter*, Hash> cache;
  Key key{id_, std::string(route), status};
  auto it = cache.find(key);
  if (it == cache.end()) {
    auto& c = registry_.counter("chrysopedia_http_requests_total",
                                "HTTP requests answered, by route pattern and status.",
                                {{"route", key.route}, {"status", std::to_string(status)}});
    it = cache.emplace(std::move(key), &c).first;
  }
  it->second->inc();
}

Registry& default_registry() {
  static Registry registry;
  return registry;
}

ServiceMetrics& service_metrics() {
  static ServiceMetrics metrics(default_registry());
  return metrics;
}

}  // namespace chrysopedia::observability

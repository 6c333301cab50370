#include "search/pg_pool.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

namespace chrysopedia::search {

using Clock = std::chrono::steady_clock;

std::size_t search_queue_bound(int max_streams) {
  constexpr std::size_t kLeast = 1024;
  constexpr std::size_t kUncapped = 65536;
  if (max_streams <= 0) return kUncapped;
  return std::max(kLeast, static_cast<std::size_t>(max_streams));
}

std::string with_url_parameter(const std::string& url, const std::string& key,
                               const std::string& value) {
  if (url.find(key + "=") != std::string::npos) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
}

std::string with_connect_timeout(const std::string& url, std::chrono::milliseconds timeout) {
  const auto seconds = std::max<long long>(1, (timeout.count() + 999) / 1000);
  return with_url_parameter(url, "connect_timeout", std::to_string(seconds));
}

PgPool::PgPool(Options options) : options_(std::move(options)) {
  options_.url = with_connect_timeout(options_.url, options_.connect_timeout);
  // So an operator's pg_stat_activity says whose connections these are,
  // unless the URL names them itself.
  options_.url = with_url_parameter(options_.url, "fallback_application_name", "chrysopedia");
  for (int i = 0; i < options_.size; ++i) threads_.emplace_back([this, i] { run(i); });
}

PgPool::~PgPool() {
  stop();
}

void PgPool::stop() {
  std::deque<Queued> abandoned;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abandoned.swap(queue_);
    for (Idle* idle : idle_) idle->wake.notify_one();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  for (auto& q : abandoned) q.job(nullptr, "the database pool is shutting down");
}

void PgPool::submit(Job job, Clock::time_point deadline) {
  std::string refused;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      refused = "the database pool is shutting down";
    } else if (queue_.size() >= options_.max_queue) {
      refused = "too many searches are waiting for a database connection";
    } else {
      queue_.push_back({std::move(job), deadline});
      if (!idle_.empty()) {
        // Under the lock: the thread cannot have gone (stop() joins only
        // after waking every idle one) nor be woken twice.
        Idle* idle = idle_.back();
        idle_.pop_back();
        idle->woken = true;
        idle->wake.notify_one();
      }
    }
  }
  if (!refused.empty()) job(nullptr, refused);
}

struct PgPool::Connection {
  explicit Connection(const std::string& url) : conn(url) {}
  pqxx::connection conn;
};

void PgPool::run(int index) {
  std::unique_ptr<Connection> conn;
  if (options_.connect_at_start) connect(conn, index);  // on failure: again on the first job
  Idle me;
  for (;;) {
    Queued item;
    {
      std::unique_lock lock(mutex_);
      while (!stopping_ && queue_.empty()) {
        me.woken = false;
        idle_.push_back(&me);
        me.wake.wait(lock, [&] { return me.woken || stopping_; });
        // Stopping wakes without taking it off the list.
        if (!me.woken) std::erase(idle_, &me);
      }
      if (queue_.empty()) return;  // stopping, nothing left
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    if (Clock::now() > item.deadline) {
      item.job(nullptr, "timed out waiting for a database connection");
      continue;
    }
    for (int attempt = 0;; ++attempt) {
      std::string error;
      if (!conn) error = connect(conn, index);
      if (!item.job(conn ? &conn->conn : nullptr, error)) break;
      conn.reset();  // broken: the job gets one more go on a new connection
      if (attempt == 1) {
        item.job(nullptr, "the database connection was lost");
        break;
      }
    }
  }
}

std::string PgPool::connect(std::unique_ptr<Connection>& conn, int index) {
  bool probe = false;
  {
    std::lock_guard lock(mutex_);
    if (down_) {
      // Failed fast, but saying why: the last connect's own error.
      if (probing_) return "the database is unavailable (" + down_reason_ + ")";
      probing_ = probe = true;
    }
  }
  try {
    conn = std::make_unique<Connection>(options_.url);
    if (options_.on_connect) options_.on_connect(conn->conn);
    {
      std::lock_guard lock(mutex_);
      down_ = false;
      if (probe) probing_ = false;
    }
    spdlog::debug("pg_connected slot={}", index);
    return {};
  } catch (const std::exception& e) {
    conn.reset();
    std::string reason = std::string("cannot connect to the database: ") + e.what();
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    {
      std::lock_guard lock(mutex_);
      down_ = true;
      down_reason_ = reason;
      if (probe) probing_ = false;
    }
    spdlog::warn("pg_connect_error slot={} error=\"{}\"", index, e.what());
    return reason;
  }
}

}  // namespace chrysopedia::search

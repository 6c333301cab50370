#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

/// A fixed set of Postgres connections, each owned by its own thread, so
/// libpqxx's blocking calls never run on an event loop. Jobs wait in a
/// bounded queue; a job that waited past its deadline is not run.
///
/// Destroy the pool before the event loops its jobs report to: destruction
/// joins the threads, and a job still running (say one whose caller was
/// cancelled) posts its result to its caller's loop when it ends.
class PgPool {
 public:
  struct Options {
    std::string url;
    int size = 4;
    std::chrono::milliseconds statement_timeout{2000};
    std::chrono::milliseconds connect_timeout{2000};
    std::size_t max_queue = 1024;
    /// Run once per new connection (session settings), on its thread.
    std::function<void(pqxx::connection_base&)> on_connect;
    /// Each thread connects (and runs on_connect) as it starts, rather than
    /// on its first job: the first searches do not pay for the connection,
    /// its session set-up and cold caches.
    bool connect_at_start = false;
  };

  /// A job gets the connection, or nullptr plus the reason when there is
  /// none (database down, deadline passed, pool stopping, queue full). It
  /// returns true when it found the connection broken and wants one more
  /// go on a fresh one (Postgres restarted under an idle connection).
  using Job = std::function<bool(pqxx::connection_base* conn, const std::string& error)>;

  explicit PgPool(Options options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  /// Queues a job; it runs on a pool thread before `deadline`, or is called
  /// with an error. Never blocks.
  void submit(Job job, std::chrono::steady_clock::time_point deadline);

  const Options& options() const { return options_; }

  /// Finishes the running jobs, fails the queued ones and joins the threads.
  /// Idempotent; the destructor calls it.
  void stop();

 private:
  struct Queued {
    Job job;
    std::chrono::steady_clock::time_point deadline;
  };
  struct Connection;  // a pqxx::connection, which cannot be forward-declared
  void run(int index);
  std::string connect(std::unique_ptr<Connection>& conn, int index);

  // A thread waiting for work. A job wakes the thread that went idle last
  // (its stack, its connection and its backend ran most recently, so the
  // least of them has gone cold), and wakes it alone.
  struct Idle {
    std::condition_variable wake;
    bool woken = false;
  };

  Options options_;
  std::mutex mutex_;
  std::vector<Idle*> idle_;  // the most recently idle last
  std::deque<Queued> queue_;
  bool stopping_ = false;
  // After a failed connect only one thread at a time tries again (a probe);
  // the others fail fast instead of each waiting for its own connect timeout
  // on a database that does not answer. The first job after the database is
  // back is the probe that finds it, so recovery is not delayed.
  bool down_ = false;
  bool probing_ = false;
  std::string down_reason_;  // the last failed connect's error
  std::vector<std::thread> threads_;
};

/// How many searches a pool may hold waiting, for a service that allows
/// `max_streams` open chats (0: no cap). Each chat searches once, so the
/// queue need never refuse a search while no more chats are open than
/// allowed: a burst of them after the loop fell behind waits (under the
/// search timeout, which still fails what waits too long) instead of
/// failing. With no cap, a bound only against runaway memory.
std::size_t search_queue_bound(int max_streams);

/// Adds `key=value` to a postgresql:// URL's parameters unless it has one.
std::string with_url_parameter(const std::string& url, const std::string& key,
                               const std::string& value);

/// Adds `connect_timeout` (seconds) to a postgresql:// URL unless present.
std::string with_connect_timeout(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace chrysopedia::search

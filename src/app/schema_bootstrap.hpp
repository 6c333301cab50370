#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace chrysopedia::app {

/// Applies the schema at start-up without holding the server hostage: one
/// attempt now, then (if Postgres is not there yet) retries in the
/// background until it works or the process stops. Searches fail with
/// "Search failed" meanwhile, which is what a missing database means.
class SchemaBootstrap {
 public:
  explicit SchemaBootstrap(std::string database_url);
  ~SchemaBootstrap();
  bool done() const { return done_; }

 private:
  bool attempt();
  std::string url_;
  std::atomic<bool> done_{false};
  std::atomic<bool> stopping_{false};
  std::thread retry_;
};

}  // namespace chrysopedia::app

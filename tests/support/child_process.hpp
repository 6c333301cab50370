#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace chrysopedia::test {

inline const std::string kUnset = "<unset>";

/// A program run by a test, its stdout and stderr captured through one pipe
/// that a thread reads all along: a chatty child (thousands of log lines in
/// a flood test) never blocks on a full pipe while the test is busy.
class ChildProcess {
 public:
  /// Starts `argv` with the current environment plus `env` (the value
  /// kUnset removes a variable).
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);
  ~ChildProcess();  // kills and reaps a child still running

  /// Reads stderr until a line containing `needle` arrives; returns it.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout);
  /// Everything read from stderr so far (after draining what is pending).
  std::string output();

  void signal(int sig);
  pid_t pid() const { return pid_; }
  /// Exit status once the child ends, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  void read_all();
  /// Waits up to `timeout` for output beyond `seen` bytes.
  void wait_for_output(std::size_t seen, std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable grew_;
  std::string captured_;  // guarded by mutex_
  std::atomic<bool> stop_reading_{false};
  std::thread reader_;
  std::size_t scanned_ = 0;
  std::optional<int> status_;
};

}  // namespace chrysopedia::test

#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chrysopedia::test {

inline const std::string kUnset = "<unset>";

/// A program run by a test, its stdout and stderr captured through one pipe.
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
  /// Exit status once the child ends, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  void drain(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string captured_;
  std::size_t scanned_ = 0;
  std::optional<int> status_;
};

}  // namespace chrysopedia::test

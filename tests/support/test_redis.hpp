#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace chrysopedia::test {

/// A private redis-server for one test (no persistence), which the test may
/// stop, restart on the same port, pause (SIGSTOP) and resume.
class TestRedis {
 public:
  /// `extra` are redis-server arguments, e.g. {"--requirepass", "secret"}.
  explicit TestRedis(std::vector<std::string> extra = {});
  ~TestRedis();

  int port() const { return port_; }
  std::string url(const std::string& userinfo = "", int db = 0) const;
  const std::string& socket_path() const { return socket_; }

  void stop();
  void start();
  void pause();
  void resume();

  /// Runs redis-cli against it and returns its output (trimmed).
  std::string cli(const std::string& args) const;

 private:
  int port_ = 0;
  std::string dir_;
  std::string socket_;
  std::vector<std::string> extra_;
  std::unique_ptr<ChildProcess> process_;
  int pid_ = 0;
};

}  // namespace chrysopedia::test

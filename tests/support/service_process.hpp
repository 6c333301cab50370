#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "support/child_process.hpp"

namespace chrysopedia::test {

/// The chrysopedia-chat binary serving on a free loopback port with the
/// given settings (DATABASE_URL, REDIS_URL, LLM_API_URL, ...).
class ServiceProcess {
 public:
  explicit ServiceProcess(std::map<std::string, std::string> env);
  std::uint16_t port() const { return port_; }
  ChildProcess& process() { return *process_; }
  /// For a failure message: whether the service still runs (or how it
  /// ended) and the last lines it wrote.
  std::string post_mortem();

 private:
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace chrysopedia::test

#include "support/process_stats.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include "support/raw_client.hpp"

namespace chrysopedia::test {

namespace {

long status_field_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

}  // namespace

long resident_kib(pid_t pid) {
  return status_field_kib(pid, "VmRSS");
}

long peak_resident_kib(pid_t pid) {
  return status_field_kib(pid, "VmHWM");
}

int open_fds(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

bool healthy(std::uint16_t port) {
  try {
    RawClient c(port);
    c.send(make_request("GET", "/healthz"));
    return c.read_response().status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace chrysopedia::test

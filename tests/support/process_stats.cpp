#include "support/process_stats.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
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

bool ignores_signal(pid_t pid, int sig) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("SigIgn:", 0) == 0) {
      const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
      return (mask >> (sig - 1)) & 1u;
    }
  }
  return false;
}

long resident_kib(pid_t pid) {
  return status_field_kib(pid, "VmRSS");
}

long peak_resident_kib(pid_t pid) {
  return status_field_kib(pid, "VmHWM");
}

long minor_page_faults(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto name_end = text.rfind(')');
  if (name_end == std::string::npos) return -1;
  // Fields after the parenthesised name: state is the 3rd, minflt the 10th.
  std::istringstream rest(text.substr(name_end + 2));
  std::string field;
  for (int i = 3; i < 10; ++i) rest >> field;
  long faults = -1;
  rest >> faults;
  return faults;
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

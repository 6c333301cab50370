#include "support/fleet_process.hpp"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace chrysopedia::test {

using namespace std::chrono_literals;

namespace {

std::uint16_t free_port() {
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::acceptor a(ctx, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

FleetProcess::FleetProcess(std::map<std::string, std::string> env, int replicas) {
  char dir[] = "/tmp/chrysopedia-fleet-XXXXXX";
  if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
  dir_ = dir;
  // The fleet's own Postgres lives here, run by the postgres user.
  std::filesystem::permissions(dir_, std::filesystem::perms(0755));
  port_ = free_port();
  env["PORT"] = std::to_string(port_);
  env["REPLICAS"] = std::to_string(replicas);
  env["FLEET_DIR"] = dir_;
  env["CHAT_BIN"] = CHRYSOPEDIA_BINARY;
  env.emplace("WORKERS", "2");
  env.emplace("LOG_FORMAT", "json");
  env.emplace("CHAT_RATE_LIMIT_PER_MINUTE", "0");
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/bin/bash", std::string(CHRYSOPEDIA_SOURCE_DIR) + "/scripts/fleet"},
      env);
  if (!process_->wait_for_line("replicas behind", 90s)) {
    throw std::runtime_error("the fleet did not start: " + post_mortem());
  }
  std::istringstream lines(read_file(dir_ + "/replicas"));
  Replica r;
  long port = 0;
  while (lines >> r.name >> port >> r.pid) {
    r.port = static_cast<std::uint16_t>(port);
    replicas_.push_back(r);
  }
  std::istringstream databases(read_file(dir_ + "/databases"));
  for (std::string kind, url; databases >> kind >> url;) {
    if (kind == "primary") primary_url_ = url;
    if (kind == "standby") {
      standby_url_ = url;
      databases >> standby_pid_;
    }
  }
  if (static_cast<int>(replicas_.size()) != replicas) {
    throw std::runtime_error("the fleet listed " + std::to_string(replicas_.size()) +
                             " replicas: " + post_mortem());
  }
}

FleetProcess::~FleetProcess() {
  if (process_) {
    process_->signal(SIGTERM);
    if (!process_->wait_exit(20s)) process_->signal(SIGKILL);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

const FleetProcess::Replica& FleetProcess::replica(const std::string& name) const {
  for (const auto& r : replicas_) {
    if (r.name == name) return r;
  }
  throw std::runtime_error("no replica named \"" + name + "\"");
}

std::string FleetProcess::post_mortem() const {
  std::string out = "scripts/fleet said:\n" + (process_ ? process_->output() : std::string());
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() != ".log") continue;
    const auto text = read_file(entry.path().string());
    out += "\n--- " + entry.path().filename().string() + " (last 2000 bytes):\n" +
           (text.size() > 2000 ? text.substr(text.size() - 2000) : text);
  }
  return out;
}

}  // namespace chrysopedia::test

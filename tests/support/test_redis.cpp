#include "support/test_redis.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace chrysopedia::test {

using namespace std::chrono_literals;

namespace {

int free_port() {
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::acceptor a(ctx, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string run_capture(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf;
    while (std::fgets(buf.data(), buf.size(), f)) out += buf.data();
    pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

TestRedis::TestRedis(std::vector<std::string> extra) : extra_(std::move(extra)) {
  char dir[] = "/tmp/chrysopedia-redis-XXXXXX";
  if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
  dir_ = dir;
  socket_ = dir_ + "/redis.sock";
  port_ = free_port();
  start();
}

TestRedis::~TestRedis() {
  resume();
  process_.reset();  // kills it
  std::system(("rm -rf " + dir_).c_str());
}

std::string TestRedis::url(const std::string& userinfo, int db) const {
  return "redis://" + (userinfo.empty() ? "" : userinfo + "@") +
         "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

void TestRedis::start() {
  std::vector<std::string> argv = {"/usr/bin/redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_,
                                   "--unixsocket",
                                   socket_,
                                   "--unixsocketperm",
                                   "700"};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  process_ = std::make_unique<ChildProcess>(argv, std::map<std::string, std::string>{});
  if (!process_->wait_for_line("Ready to accept connections", 10s)) {
    throw std::runtime_error("redis-server did not start: " + process_->output());
  }
}

void TestRedis::stop() {
  process_.reset();
}

void TestRedis::pause() {
  if (process_) process_->signal(SIGSTOP);
}

void TestRedis::resume() {
  if (process_) process_->signal(SIGCONT);
}

std::string TestRedis::cli(const std::string& args) const {
  return run_capture("redis-cli -p " + std::to_string(port_) + " " + args + " 2>&1");
}

}  // namespace chrysopedia::test

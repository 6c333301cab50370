#include "support/test_server.hpp"

#include <fstream>
#include <string>

namespace chrysopedia::test {

http::ServerOptions loopback_options() {
  http::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.workers = 1;
  return o;
}

TestServer::TestServer(std::shared_ptr<const http::Router> router, http::ServerOptions options)
    : server_(std::move(options), std::move(router)) {
  server_.start();
}

TestServer::~TestServer() {
  server_.stop();
  server_.wait();
}

long resident_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long v = 0;
      in >> v;
      return v;
    }
    std::getline(in, key);
  }
  return -1;
}

}  // namespace chrysopedia::test

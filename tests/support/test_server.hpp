#pragma once

#include <memory>

#include "chrysopedia/http/router.hpp"
#include "chrysopedia/http/server.hpp"

namespace chrysopedia::test {

/// Options for an in-process server on a free loopback port.
http::ServerOptions loopback_options();

/// An in-process HTTP server for one test, stopped and joined on scope exit.
class TestServer {
 public:
  explicit TestServer(std::shared_ptr<const http::Router> router,
                      http::ServerOptions options = loopback_options());
  ~TestServer();
  std::uint16_t port() const { return server_.port(); }
  http::Server& server() { return server_; }

 private:
  http::Server server_;
};

/// Resident set size of this process, in KiB (from /proc/self/status).
long resident_kib();

}  // namespace chrysopedia::test

#include "app/serve_command.hpp"

#include <pthread.h>
#include <signal.h>

#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/health_routes.hpp"
#include "app/schema_bootstrap.hpp"
#include "chrysopedia/http/server.hpp"

namespace chrysopedia::app {

namespace {

http::ServerOptions server_options(const config::Settings& s) {
  http::ServerOptions o;
  o.host = s.host;
  o.port = s.port;
  o.workers = s.workers != 0 ? s.workers : std::max(1u, std::thread::hardware_concurrency());
  o.idle_timeout = s.http_idle_timeout;
  o.request_timeout = s.http_request_timeout;
  o.write_timeout = s.http_write_timeout;
  o.heartbeat_interval = s.sse_heartbeat_interval;
  o.shutdown_grace = s.shutdown_grace;
  return o;
}

}  // namespace

int serve(const config::Settings& settings) {
  spdlog::info("config {}", settings.redacted_json());

  // Signals are taken by one thread with sigwait, so they are blocked in
  // every thread, including the workers started below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SchemaBootstrap schema(settings.database_url);

  auto router = std::make_shared<http::Router>();
  add_health_routes(*router);

  const auto options = server_options(settings);
  http::Server server(options, router);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("listen_failed host={} port={} error=\"{}\"", settings.host, settings.port,
                     e.what());
    return 1;
  }
  spdlog::info("listening host={} port={} workers={}", settings.host, server.port(),
               options.workers);

  std::thread signal_waiter([&server, &signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("shutdown signal={} draining open streams", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
    // A second signal while draining means "now".
    sigwait(&signals, &sig);
    spdlog::warn("shutdown forced by a second signal");
    std::_Exit(1);
  });
  signal_waiter.detach();

  server.wait();
  spdlog::info("stopped");
  return 0;
}

}  // namespace chrysopedia::app

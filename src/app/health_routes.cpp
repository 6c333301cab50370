#include "app/health_routes.hpp"

namespace chrysopedia::app {

void add_health_routes(http::Router& router) {
  router.add("GET", "/healthz", [](http::Exchange& ex) -> boost::asio::awaitable<void> {
    http::Response ok{200, "application/json", R"({"status":"ok"})", {}};
    co_await ex.respond(std::move(ok));
  });
}

void add_metrics_route(http::Router& router, const observability::Registry& registry) {
  router.add("GET", "/metrics", [&registry](http::Exchange& ex) -> boost::asio::awaitable<void> {
    http::Response r{200, "text/plain; version=0.0.4", registry.expose(), {}};
    r.headers.emplace_back("Cache-Control", "no-store");
    co_await ex.respond(std::move(r));
  });
}

}  // namespace chrysopedia::app

#include "app/health_routes.hpp"

namespace chrysopedia::app {

void add_health_routes(http::Router& router) {
  router.add("GET", "/healthz", [](http::Exchange& ex) -> boost::asio::awaitable<void> {
    http::Response ok{200, "application/json", R"({"status":"ok"})", {}};
    co_await ex.respond(std::move(ok));
  });
}

}  // namespace chrysopedia::app

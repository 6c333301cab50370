#include "app/readiness.hpp"

#include "search/semantic_index.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

namespace chrysopedia::app {

namespace net = boost::asio;

Readiness::Readiness(chat::PeersOfThisLoop peers, const search::SemanticIndex* semantic,
                     std::chrono::milliseconds timeout)
    : peers_(std::move(peers)), semantic_(semantic), timeout_(timeout) {}

void Readiness::add_routes(http::Router& router) {
  router.add("GET", "/readyz", [this](http::Exchange& ex) { return readyz(ex); });
}

net::awaitable<void> Readiness::readyz(http::Exchange& ex) {
  auto executor = co_await net::this_coro::executor;
  const chat::ChatPeers peers = peers_();
  auto [order, pg_exception, pg_down, redis_exception, redis_down] =
      co_await net::experimental::make_parallel_group(
          net::co_spawn(executor, peers.search->readiness(timeout_), net::deferred),
          net::co_spawn(executor, peers.history->readiness(timeout_), net::deferred))
          .async_wait(net::experimental::wait_for_all(), net::use_awaitable);
  if (pg_exception) pg_down = "the check failed";
  if (redis_exception) redis_down = "the check failed";

  nlohmann::ordered_json down = nlohmann::ordered_json::array();
  if (!pg_down.empty()) down.push_back("postgres");
  if (!redis_down.empty()) down.push_back("redis");
  http::Response response;
  nlohmann::ordered_json body{{"status", down.empty() ? "ready" : "unready"}};
  if (!down.empty()) body["down"] = down;
  if (semantic_) {
    const auto state = semantic_->state();
    body["semantic"] = state == search::SemanticIndex::State::ready && semantic_->endpoint_failing()
                           ? "endpoint_failing"
                           : search::SemanticIndex::name(state);
  }
  if (down.empty()) {
    response.body = body.dump();
  } else {
    // The reasons stay in the log: they name hosts a public caller need not see.
    spdlog::warn("readyz_unready rid={} postgres=\"{}\" redis=\"{}\"", ex.request().request_id,
                 pg_down, redis_down);
    response.status = 503;
    response.body = body.dump();
  }
  response.headers.emplace_back("Cache-Control", "no-store");
  co_await ex.respond(std::move(response));
}

}  // namespace chrysopedia::app

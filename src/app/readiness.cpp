#include "app/readiness.hpp"

#include "search/semantic_index.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "common/one_shot.hpp"
#include "history/redis_connection.hpp"
#include "search/pg_pool.hpp"

namespace chrysopedia::app {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

Readiness::Readiness(std::shared_ptr<search::PgPool> pool,
                     std::function<history::RedisConnection*()> redis_of_this_loop,
                     const search::SemanticIndex* semantic, std::chrono::milliseconds timeout)
    : pool_(std::move(pool)),
      redis_of_this_loop_(std::move(redis_of_this_loop)),
      semantic_(semantic),
      timeout_(timeout) {}

void Readiness::add_routes(http::Router& router) {
  router.add("GET", "/readyz", [this](http::Exchange& ex) { return readyz(ex); });
}

net::awaitable<std::string> Readiness::check_postgres() {
  const auto deadline = Clock::now() + timeout_;
  std::function<void(common::OneShot<std::string>::Complete)> start =
      [this, deadline](common::OneShot<std::string>::Complete complete) {
        pool_->submit(
            [complete](pqxx::connection_base* conn, const std::string& error) {
              if (!conn) {
                complete(nullptr, error.empty() ? "no connection" : error);
                return false;
              }
              try {
                pqxx::nontransaction tx(*conn);
                tx.exec("SELECT 1");
              } catch (const pqxx::broken_connection&) {
                return true;  // one more go on a fresh connection
              } catch (const std::exception& e) {
                complete(nullptr, e.what());
                return false;
              }
              complete(nullptr, std::string());
              return false;
            },
            deadline);
      };
  // The pool bounds the wait for a connection; a connect or a query on a
  // hung server is bounded here, and its late answer dropped.
  net::steady_timer timer(co_await net::this_coro::executor, timeout_);
  auto ex = co_await net::this_coro::executor;
  auto [order, query_error, outcome, timer_error] =
      co_await net::experimental::make_parallel_group(
          net::co_spawn(ex, common::OneShot<std::string>::run(std::move(start)), net::deferred),
          timer.async_wait(net::deferred))
          .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
  if (order[0] == 1) co_return "no answer within " + std::to_string(timeout_.count()) + " ms";
  if (query_error) co_return "the check failed";
  co_return outcome;
}

net::awaitable<std::string> Readiness::check_redis() {
  history::RedisConnection* redis = redis_of_this_loop_ ? redis_of_this_loop_() : nullptr;
  if (!redis) co_return std::string();  // memory is off: nothing to wait for
  std::vector<std::string> ping{"PING"};
  try {
    co_await redis->command(std::move(ping), timeout_);
  } catch (const std::exception& e) {
    co_return std::string(e.what());
  }
  co_return std::string();
}

net::awaitable<void> Readiness::readyz(http::Exchange& ex) {
  auto executor = co_await net::this_coro::executor;
  auto [order, pg_exception, pg_down, redis_exception, redis_down] =
      co_await net::experimental::make_parallel_group(
          net::co_spawn(executor, check_postgres(), net::deferred),
          net::co_spawn(executor, check_redis(), net::deferred))
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

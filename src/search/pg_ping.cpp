#include "search/pg_ping.hpp"

#include <functional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/pqxx>

#include "common/one_shot.hpp"
#include "search/pg_pool.hpp"

namespace chrysopedia::search {

namespace net = boost::asio;

net::awaitable<std::string> ping_postgres(PgPool& pool, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::function<void(common::OneShot<std::string>::Complete)> start =
      [&pool, deadline](common::OneShot<std::string>::Complete complete) {
        pool.submit(
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
  // The pool bounds the wait for a connection; the timer bounds the rest.
  const auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor, timeout);
  auto [order, query_error, outcome, timer_error] =
      co_await net::experimental::make_parallel_group(
          net::co_spawn(executor, common::OneShot<std::string>::run(std::move(start)),
                        net::deferred),
          timer.async_wait(net::deferred))
          .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
  if (order[0] == 1) co_return "no answer within " + std::to_string(timeout.count()) + " ms";
  if (query_error) co_return "the check failed";
  co_return outcome;
}

}  // namespace chrysopedia::search

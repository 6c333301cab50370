#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "chrysopedia/http/router.hpp"

namespace chrysopedia::search {
class PgPool;
}
namespace chrysopedia::history {
class RedisConnection;
}

namespace chrysopedia::app {

/// `GET /readyz`: 200 `{"status":"ready"}` when Postgres and Redis answer,
/// else 503 `{"status":"unready","down":[...]}`. Each check has a short
/// deadline and waits without blocking its loop: Postgres through the
/// search pool's threads, Redis over the loop's own connection.
}  // namespace chrysopedia::app
namespace chrysopedia::search {
class SemanticIndex;
}
namespace chrysopedia::app {

class Readiness {
 public:
  /// `redis_of_this_loop` gives the calling loop's connection, or null when
  /// memory is off (REDIS_URL empty), which counts as ready.
  /// `semantic`: the semantic index when embeddings are configured. Its
  /// state is reported, never waited for: while it loads, or when the
  /// embeddings endpoint fails, search is full text alone.
  Readiness(std::shared_ptr<search::PgPool> pool,
            std::function<history::RedisConnection*()> redis_of_this_loop,
            const search::SemanticIndex* semantic = nullptr,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

  void add_routes(http::Router& router);
  boost::asio::awaitable<void> readyz(http::Exchange& exchange);

 private:
  // Each yields why its peer is down, or "" when it answered.
  boost::asio::awaitable<std::string> check_postgres();
  boost::asio::awaitable<std::string> check_redis();

  std::shared_ptr<search::PgPool> pool_;
  std::function<history::RedisConnection*()> redis_of_this_loop_;
  const search::SemanticIndex* semantic_;
  std::chrono::milliseconds timeout_;
};

}  // namespace chrysopedia::app

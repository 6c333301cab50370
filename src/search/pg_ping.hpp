#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

namespace chrysopedia::search {

class PgPool;

/// Whether Postgres answers a trivial query through the search pool within
/// `timeout` (for /readyz): empty when it does, else why not. A connect or
/// a query on a hung server is bounded here, and its late answer dropped.
boost::asio::awaitable<std::string> ping_postgres(PgPool& pool, std::chrono::milliseconds timeout);

}  // namespace chrysopedia::search

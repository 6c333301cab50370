#include "search/pg_search_client.hpp"

#include <optional>
#include <variant>

#include <pqxx/pqxx>

#include "common/one_shot.hpp"
#include "search/cascade.hpp"

namespace chrysopedia::search {

namespace net = boost::asio;

namespace {

using Outcome = std::variant<SearchResult, std::string>;  // result or error

}  // namespace

PgSearchClient::PgSearchClient(std::shared_ptr<PgPool> pool, std::chrono::milliseconds timeout)
    : pool_(std::move(pool)), timeout_(timeout) {}

net::awaitable<SearchResult> PgSearchClient::search(const SearchRequest& request) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  std::function<void(common::OneShot<SearchResult>::Complete)> start =
      [this, request, deadline](common::OneShot<SearchResult>::Complete complete) {
        pool_->submit(
            [complete, request](pqxx::connection_base* conn, const std::string& error) {
              Outcome outcome{error};
              if (conn) {
                try {
                  outcome = run_cascade(*conn, request);
                } catch (const pqxx::broken_connection& e) {
                  return true;  // the pool calls again, with a new connection
                } catch (const std::exception& e) {
                  outcome = std::string(e.what());
                }
              }
              if (auto* r = std::get_if<SearchResult>(&outcome)) {
                complete(nullptr, std::move(*r));
              } else {
                complete(std::make_exception_ptr(SearchError(std::get<std::string>(outcome))), {});
              }
              return false;
            },
            deadline);
      };
  co_return co_await common::OneShot<SearchResult>::run(std::move(start));
}

}  // namespace chrysopedia::search

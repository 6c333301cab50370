#include "search/pg_search_client.hpp"

#include <optional>
#include <variant>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/pqxx>

#include "search/cascade.hpp"

namespace chrysopedia::search {

namespace net = boost::asio;

namespace {

using Outcome = std::variant<SearchResult, std::string>;  // result or error

/// Completes one awaiting handler exactly once, from whichever comes first:
/// the pool's result or the caller's cancellation. Both run on the
/// caller's executor, so no lock is needed.
template <typename Handler>
struct Completion : std::enable_shared_from_this<Completion<Handler>> {
  explicit Completion(Handler h) : handler(std::move(h)) {}
  std::optional<Handler> handler;

  void finish(std::exception_ptr error, SearchResult result) {
    if (!handler) return;
    auto h = std::move(*handler);
    handler.reset();
    net::get_associated_cancellation_slot(h).clear();
    std::move(h)(error, std::move(result));
  }
};

}  // namespace

PgSearchClient::PgSearchClient(std::shared_ptr<PgPool> pool, std::chrono::milliseconds timeout)
    : pool_(std::move(pool)), timeout_(timeout) {}

net::awaitable<SearchResult> PgSearchClient::search(const SearchRequest& request) {
  auto initiate = [this, request](auto handler) {
    using H = decltype(handler);
    auto executor = net::get_associated_executor(handler);
    auto completion = std::make_shared<Completion<H>>(std::move(handler));
    auto slot = net::get_associated_cancellation_slot(*completion->handler);
    if (slot.is_connected()) {
      slot.assign([completion](net::cancellation_type) {
        completion->finish(
            std::make_exception_ptr(boost::system::system_error(net::error::operation_aborted)),
            {});
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    pool_->submit(
        [completion, executor, request](pqxx::connection_base* conn, const std::string& error) {
          Outcome outcome{error};
          bool retry = false;
          if (conn) {
            try {
              outcome = run_cascade(*conn, request);
            } catch (const pqxx::broken_connection& e) {
              outcome = std::string(e.what());
              retry = true;
            } catch (const std::exception& e) {
              outcome = std::string(e.what());
            }
          }
          if (retry) return true;  // the pool calls again, with a new connection
          net::post(executor, [completion, outcome = std::move(outcome)]() mutable {
            if (auto* r = std::get_if<SearchResult>(&outcome)) {
              completion->finish(nullptr, std::move(*r));
            } else {
              completion->finish(
                  std::make_exception_ptr(SearchError(std::get<std::string>(outcome))), {});
            }
          });
          return false;
        },
        deadline);
  };
  co_return co_await net::async_initiate<decltype(net::use_awaitable),
                                         void(std::exception_ptr, SearchResult)>(
      std::move(initiate), net::use_awaitable);
}

}  // namespace chrysopedia::search

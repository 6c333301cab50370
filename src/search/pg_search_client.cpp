#include "search/pg_search_client.hpp"

#include <array>
#include <optional>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <pqxx/pqxx>

#include "chrysopedia/observability/metrics.hpp"
#include "common/one_shot.hpp"
#include "search/cascade.hpp"
#include "search/document_store.hpp"
#include "search/lexicon.hpp"
#include "search/pg_ping.hpp"
#include "search/standby_lag.hpp"

namespace chrysopedia::search {

namespace net = boost::asio;

namespace {

using Timings = std::array<std::chrono::steady_clock::time_point, 3>;

// Past the statement timeout, how long the caller still waits for the
// backend's own "canceling statement due to statement timeout".
constexpr std::chrono::milliseconds kGrace{500};

observability::Counter& reads_counter(const char* server) {
  return observability::default_registry().counter(
      "chrysopedia_search_reads_total",
      "Searches served, by the Postgres server that answered (primary or a hot standby).",
      {{"server", server}});
}

observability::Gauge& standbys_usable_gauge() {
  return observability::default_registry().gauge(
      "chrysopedia_search_standbys_usable",
      "Hot standbys (DATABASE_REPLICA_URLS) searches may read from now: answering and within "
      "the allowed lag.");
}

}  // namespace

PgSearchClient::PgSearchClient(std::shared_ptr<PgPool> pool, std::chrono::milliseconds timeout,
                               std::vector<std::shared_ptr<PgPool>> standbys,
                               std::chrono::milliseconds max_lag, std::size_t list_cache_bytes)
    : pool_(std::move(pool)),
      timeout_(timeout),
      lists_(std::make_shared<ListCache>(list_cache_bytes)),
      lexicon_bytes_(list_cache_bytes * kLexiconFactor),
      documents_bytes_(list_cache_bytes * kDocumentsFactor),
      standbys_(std::move(standbys)),
      replicas_(std::make_shared<ReplicaSet>(standbys_.size(), max_lag)) {
  standbys_usable_gauge();  // listed in /metrics from the start
  check_standbys();
  read_lexicon_if_due();
}

net::awaitable<SearchResult> PgSearchClient::search(const SearchRequest& request) {
  co_return co_await search_with(request, {});
}

net::awaitable<std::string> PgSearchClient::readiness(std::chrono::milliseconds timeout) {
  auto primary = co_await ping_postgres(*pool_, timeout);
  if (primary.empty() || standbys_.empty()) co_return primary;
  // Searches are served while a standby is: ready, with the primary away.
  for (const auto& standby : standbys_) {
    if ((co_await ping_postgres(*standby, timeout)).empty()) co_return std::string();
  }
  co_return primary;
}

namespace {

// Every search document, for ranking in the process (memory_ranking.hpp),
// once the lexicon of its generation is held; a failure leaves searches to
// the statement.
void read_documents(pqxx::connection_base& conn, ListCache& lists, std::size_t max_bytes) {
  const auto started = std::chrono::steady_clock::now();
  try {
    auto read = read_document_store(conn, max_bytes);
    if (!read.store) {
      spdlog::info("search_documents_not_kept reason={} bytes={} max_bytes={} generation={}",
                   read.why_not, read.bytes, max_bytes, read.generation);
      return;
    }
    spdlog::info("search_documents_read documents={} bytes={} generation={} ms={}",
                 read.store->documents.size(), read.bytes, read.generation,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count());
    lists.set_documents(std::move(read.store));
  } catch (const std::exception& e) {
    spdlog::warn("search_documents_error error=\"{}\"", e.what());
  }
}

}  // namespace

void PgSearchClient::read_lexicon_if_due() {
  if (lexicon_bytes_ == 0 || !lists_->lexicon_missing()) return;
  const auto now = std::chrono::steady_clock::now();
  const long long generation = lists_->stats().generation;
  {
    std::lock_guard lock(lexicon_reading_->mutex);
    auto& r = *lexicon_reading_;
    if (r.under_way || now < r.next_try || r.not_kept_at >= generation) return;
    // A read that ended while this waited for the lock has kept its lexicon.
    if (!lists_->lexicon_missing()) return;
    r.under_way = true;
  }
  // From the primary: a standby's lists may be behind the searches' own.
  pool_->submit(
      [lists = lists_, reading = lexicon_reading_, max_bytes = lexicon_bytes_,
       documents_bytes = documents_bytes_](pqxx::connection_base* conn, const std::string& error) {
        const auto started = std::chrono::steady_clock::now();
        std::optional<LexiconRead> read;
        std::string failure = error;
        if (conn) {
          try {
            read = read_lexicon(*conn, max_bytes);
          } catch (const pqxx::broken_connection&) {
            return true;  // once more, on a fresh connection
          } catch (const std::exception& e) {
            failure = e.what();
          }
        }
        // Kept before the reading is over, so no search starts another.
        if (read && read->lexicon) {
          spdlog::info("search_lexicon_read lexemes={} bytes={} generation={} ms={}",
                       read->lexicon->lists.size(), read->bytes, read->generation,
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count());
          lists->set_lexicon(std::move(read->lexicon));
          if (documents_bytes > 0) read_documents(*conn, *lists, documents_bytes);
        }
        std::lock_guard lock(reading->mutex);
        reading->under_way = false;
        if (!read) {
          // The database away or the statement failed: searches read the
          // lists as they did; another try a little later.
          spdlog::warn("search_lexicon_error error=\"{}\"", failure);
          reading->next_try = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        } else if (!read->why_not.empty()) {
          // Too big: searches read the lists of words they have not met.
          // Stemmed otherwise by this database: the operator should know.
          spdlog::log(read->why_not == "too_big" ? spdlog::level::info : spdlog::level::warn,
                      "search_lexicon_not_kept reason={} bytes={} max_bytes={} generation={}",
                      read->why_not, read->bytes, max_bytes, read->generation);
          reading->not_kept_at = read->generation;
        }
        return false;
      },
      now + std::chrono::seconds(30));
}

void PgSearchClient::check_standbys() {
  if (standbys_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  for (const std::size_t i : replicas_->due_checks(now)) {
    standbys_[i]->submit(
        [replicas = replicas_, i](pqxx::connection_base* conn, const std::string&) {
          std::optional<std::chrono::milliseconds> lag;
          if (conn) {
            try {
              lag = standby_lag(*conn);
            } catch (const pqxx::broken_connection&) {
              return true;  // once more, on a fresh connection
            } catch (const std::exception& e) {
              spdlog::warn("search_standby_check_error standby={} error=\"{}\"", i, e.what());
            }
          }
          replicas->checked(i, lag, std::chrono::steady_clock::now());
          standbys_usable_gauge().set(static_cast<std::int64_t>(replicas->usable_count()));
          return false;
        },
        now + ReplicaSet::kCheckEvery);
  }
}

net::awaitable<SearchResult> PgSearchClient::search_with(const SearchRequest& request,
                                                         Neighbours neighbours) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  check_standbys();
  read_lexicon_if_due();
  if (const int standby = replicas_->pick(); standby != ReplicaSet::kPrimary) {
    // Half the time on the standby, so that a failure leaves the primary
    // the other half. (No co_await in a catch block: the fallback is after.)
    std::optional<SearchResult> found;
    try {
      found = co_await search_on(*standbys_[standby], request, neighbours,
                                 std::chrono::steady_clock::now() + timeout_ / 2);
    } catch (const SearchError& e) {
      spdlog::warn("search_standby_error standby={} error=\"{}\" (searching the primary)", standby,
                   e.what());
      replicas_->failed(static_cast<std::size_t>(standby), std::chrono::steady_clock::now());
      standbys_usable_gauge().set(static_cast<std::int64_t>(replicas_->usable_count()));
    }
    if (found) {
      reads_counter("standby").inc();
      co_return std::move(*found);
    }
  }
  auto found = co_await search_on(*pool_, request, neighbours, deadline);
  reads_counter("primary").inc();
  co_return found;
}

namespace {

// Runs `work` on one of the pool's threads with its connection, and
// resumes the caller on its own executor with the result (or a
// SearchError). The statement timeout runs inside the backend: a backend
// that hangs (or a network that drops everything) never sends it. So the
// caller gives up on its own a little after it would have fired; the pool
// thread stays stuck on that connection until the backend answers or the
// socket dies.
template <typename T>
net::awaitable<T> on_pool(PgPool& pool, std::chrono::steady_clock::time_point deadline,
                          std::function<T(pqxx::connection_base&)> work, const char* part) {
  const auto executor = co_await net::this_coro::executor;
  auto give_up = std::make_shared<net::steady_timer>(executor, deadline + kGrace);
  // Where a search's time goes (LOG_LEVEL=debug): waiting for a pool
  // thread, the statements, and the way back to the caller's loop.
  std::shared_ptr<Timings> times;
  if (spdlog::should_log(spdlog::level::debug)) {
    times = std::make_shared<Timings>();
    times->at(0) = std::chrono::steady_clock::now();
  }
  using Complete = typename common::OneShot<T>::Complete;
  std::function<void(Complete)> start = [&pool, deadline, give_up, times,
                                         work = std::move(work)](Complete complete) {
    const auto waited = std::chrono::ceil<std::chrono::milliseconds>(
                            deadline + kGrace - std::chrono::steady_clock::now())
                            .count();
    give_up->async_wait([complete, waited](boost::system::error_code ec) {
      if (ec) return;
      complete(std::make_exception_ptr(SearchError("the database did not answer within " +
                                                   std::to_string(waited) + " ms")),
               {});
    });
    pool.submit(
        [complete, times, work](pqxx::connection_base* conn, const std::string& error) {
          std::variant<T, std::string> outcome{std::in_place_index<1>, error};
          if (times) times->at(1) = std::chrono::steady_clock::now();
          if (conn) {
            try {
              outcome.template emplace<0>(work(*conn));
              if (times) times->at(2) = std::chrono::steady_clock::now();
            } catch (const pqxx::broken_connection& e) {
              return true;  // the pool calls again, with a new connection
            } catch (const std::exception& e) {
              outcome.template emplace<1>(e.what());
            }
          }
          if (auto* r = std::get_if<0>(&outcome)) {
            complete(nullptr, std::move(*r));
          } else {
            complete(std::make_exception_ptr(SearchError(std::get<1>(outcome))), {});
          }
          return false;
        },
        deadline);
  };
  // Cancel the timer on every way out (its handler holds the completion).
  struct CancelOnExit {
    std::shared_ptr<net::steady_timer> timer;
    ~CancelOnExit() { timer->cancel(); }
  } cancel_on_exit{give_up};
  auto result = co_await common::OneShot<T>::run(std::move(start));
  if (times) {
    const auto us = [](auto d) {
      return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    };
    const auto& t = *times;
    spdlog::debug("search_timing part=\"{}\" queue_us={} statements_us={} return_us={}", part,
                  us(t[1] - t[0]), us(t[2] - t[1]), us(std::chrono::steady_clock::now() - t[2]));
  }
  co_return result;
}

}  // namespace

net::awaitable<SearchResult> PgSearchClient::search_on(
    PgPool& pool, const SearchRequest& request, const Neighbours& neighbours,
    std::chrono::steady_clock::time_point deadline) {
  // (The work is built in named variables, not inside the co_await: see
  // tests/scripts/coroutine_temporaries_test.sh.)
  const auto neighbours_of = [neighbours] {
    return neighbours.find ? neighbours.find() : std::vector<long long>{};
  };
  if (own_words_searched_apart(request)) {
    // The follow-up's two statements on two connections at once: it waits
    // for the slower, not for both in turn. (Either failing fails the
    // search, as one after the other would.)
    std::function<ContextualFound(pqxx::connection_base&)> in_context =
        [request, neighbours_of, lists = lists_](pqxx::connection_base& conn) {
          return contextual_cascade(conn, request, neighbours_of(), lists.get());
        };
    std::function<Ranking(pqxx::connection_base&)> alone =
        [request, lists = lists_](pqxx::connection_base& conn) {
          return own_words_ranking(conn, request, 0, lists.get());
        };
    using namespace net::experimental::awaitable_operators;
    auto found_in_context = on_pool(pool, deadline, std::move(in_context), "in context");
    auto found_alone = on_pool(pool, deadline, std::move(alone), "own words");
    auto both = std::move(found_in_context) && std::move(found_alone);
    auto [found, own] = co_await std::move(both);
    co_return finish_cascade(std::move(found), request, &own, neighbours.weight);
  }
  std::function<SearchResult(pqxx::connection_base&)> cascade =
      [request, neighbours_of, lists = lists_,
       weight = neighbours.weight](pqxx::connection_base& conn) {
        return run_cascade(conn, request, neighbours_of(), lists.get(), weight);
      };
  auto found = on_pool(pool, deadline, std::move(cascade), "cascade");
  co_return co_await std::move(found);
}

}  // namespace chrysopedia::search

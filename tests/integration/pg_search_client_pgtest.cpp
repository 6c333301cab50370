// The asynchronous search client and its pool against real Postgres:
// results come back on the caller's event loop, failures are prompt
// errors, cancellation is immediate, and a restarted Postgres is survived.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/cascade.hpp"
#include "search/pg_pool.hpp"
#include "search/pg_search_client.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<search::PgPool> make_pool(const std::string& url, int statement_timeout_ms = 2000) {
  search::PgPool::Options o;
  o.url = url;
  o.size = 2;
  o.statement_timeout = std::chrono::milliseconds(statement_timeout_ms);
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.on_connect = [statement_timeout_ms](pqxx::connection_base& c) {
    search::configure_search_session(c, statement_timeout_ms);
  };
  return std::make_shared<search::PgPool>(o);
}

// A port that accepts TCP connections and never says a word: a database
// host that hangs, so each connect waits for libpq's connect_timeout. The
// kernel completes the handshakes in the backlog; nobody needs to accept.
class SilentPort {
 public:
  SilentPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("cannot listen on a loopback port");
    }
    port_ = ntohs(a.sin_port);
  }
  ~SilentPort() { ::close(fd_); }
  SilentPort(const SilentPort&) = delete;
  SilentPort& operator=(const SilentPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

struct JobEnd {
  bool connected = false;
  std::string error;
  Clock::time_point at;
};

// A job that runs `SELECT 1` on what the pool hands it, asking for a fresh
// connection when it finds the one it got broken (as the search does).
std::future<JobEnd> submit_job(search::PgPool& pool) {
  auto done = std::make_shared<std::promise<JobEnd>>();
  auto ended = done->get_future();
  pool.submit(
      [done](pqxx::connection_base* conn, const std::string& error) {
        if (conn == nullptr) {
          done->set_value({false, error, Clock::now()});
          return false;
        }
        try {
          pqxx::nontransaction(*conn).exec("SELECT 1");
        } catch (const pqxx::broken_connection&) {
          return true;  // the pool calls again: a new connection, or why not
        }
        done->set_value({true, {}, Clock::now()});
        return false;
      },
      Clock::now() + std::chrono::seconds(30));
  return ended;
}

int run_pg_ctl(const std::string& command) {
  return std::system((command + " > /dev/null").c_str());
}

struct Outcome {
  std::optional<search::SearchResult> result;
  std::string error;
  bool aborted = false;
  std::thread::id resumed_on;
};

Outcome run_search(search::SearchClient& client, search::SearchRequest request) {
  net::io_context ctx;
  Outcome out;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        try {
          out.result = co_await client.search(request);
        } catch (const search::SearchError& e) {
          out.error = e.what();
        }
        out.resumed_on = std::this_thread::get_id();
      },
      net::detached);
  ctx.run();
  return out;
}

std::string seed() {
  return page_line("sidechain-bass", "Sidechain compression for bass", "kara", "Kara", "mixing",
                   "Duck the bass under the kick.");
}

}  // namespace

TEST(PgSearchClient, ResumesTheCallerOnItsOwnThreadWithTheResult) {
  TestDatabase db;
  db.import(seed());
  search::PgSearchClient client(make_pool(db.url()), std::chrono::seconds(5));
  const auto out = run_search(client, {"sidechain", std::nullopt, 10});
  ASSERT_TRUE(out.result) << out.error;
  EXPECT_EQ(out.result->cascade_tier, "global");
  EXPECT_EQ(out.result->items.at(0).slug, "sidechain-bass");
  EXPECT_EQ(out.resumed_on, std::this_thread::get_id());
}

// Polls `done` for up to 10 s.
template <typename Done>
bool eventually(Done done) {
  for (int i = 0; i < 200 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

TEST(PgSearchClient, ReadsTheLexiconAtStartAndAgainAfterAnImport) {
  TestDatabase db;
  db.import(seed());
  search::PgSearchClient client(make_pool(db.url()), std::chrono::seconds(5));
  ASSERT_TRUE(eventually([&] { return client.list_cache_stats().lexicon_lists > 0; }))
      << "read in the background from the start";
  // (Words whose thesaurus alternatives are plain words too: a hyphen's,
  // "side-chain" for "ducking", is parsed by Postgres.)
  auto out = run_search(client, {"squashing the kicks", std::nullopt, 10});
  ASSERT_TRUE(out.result) << out.error;
  EXPECT_EQ(out.result->items.at(0).slug, "sidechain-bass");
  EXPECT_GE(client.list_cache_stats().lexicon_hits, 2u) << "squashing, kicks: stemmed here";
  EXPECT_EQ(client.list_cache_stats().misses, 0u);

  db.import(page_line("zebra-page", "Zebra", "kara", "Kara", "mixing", "Zebrafoo sounds."));
  out = run_search(client, {"zebrafoo", std::nullopt, 10});
  ASSERT_TRUE(out.result) << out.error;
  ASSERT_FALSE(out.result->items.empty()) << "the import seen at once";
  EXPECT_EQ(out.result->items.at(0).slug, "zebra-page");
  const auto generation = client.list_cache_stats().generation;
  // The next search finds the lexicon gone stale and reads it again.
  run_search(client, {"sidechain", std::nullopt, 10});
  EXPECT_TRUE(eventually([&] {
    const auto stats = client.list_cache_stats();
    return stats.lexicon_lists > 0 && stats.generation == generation;
  })) << "the lexicon of the import's generation";
}

TEST(PgSearchClient, NeighboursAreLookedUpOnThePoolThreadAndFusedByTheirWeight) {
  TestDatabase db;
  db.import(seed() + "\n" +
            page_line("reverb-tails", "Reverb tails", "kara", "Kara", "mixing",
                      "Long decays behind a vocal."));
  long long reverb = 0;
  {
    pqxx::connection c(db.url());
    pqxx::nontransaction tx(c);
    reverb = tx.exec1(
                   "SELECT d.id FROM search_documents d JOIN technique_pages p"
                   " ON p.id = d.page_id WHERE p.slug = 'reverb-tails'"
                   " AND d.section_position IS NULL")[0]
                 .as<long long>();
  }
  search::PgSearchClient client(make_pool(db.url()), std::chrono::seconds(5));
  net::io_context ctx;
  std::thread::id looked_up_on;
  std::optional<search::SearchResult> result, heavier;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        // An index lookup is CPU work: the caller's loop must not run it.
        // (Named, not temporaries: g++ 12 destroys a braced temporary in a
        // co_await expression twice.)
        const search::SearchRequest request{"sidechain", std::nullopt, 10};
        search::PgSearchClient::Neighbours neighbours{[&] {
                                                        looked_up_on = std::this_thread::get_id();
                                                        return std::vector<long long>{reverb};
                                                      },
                                                      0.5};
        result = co_await client.search_with(request, neighbours);
        // Weighed three times a full-text rank, the semantic first leads.
        neighbours.weight = 3;
        heavier = co_await client.search_with(request, std::move(neighbours));
      },
      net::detached);
  ctx.run();
  ASSERT_TRUE(result);
  EXPECT_NE(looked_up_on, std::thread::id{});
  EXPECT_NE(looked_up_on, std::this_thread::get_id());
  ASSERT_EQ(result->items.size(), 2u);
  EXPECT_EQ(result->items.at(0).slug, "sidechain-bass");
  EXPECT_EQ(result->items.at(1).slug, "reverb-tails");
  ASSERT_TRUE(heavier);
  ASSERT_EQ(heavier->items.size(), 2u);
  EXPECT_EQ(heavier->items.at(0).slug, "reverb-tails");
}

TEST(PgSearchClient, ManyConcurrentSearchesShareASmallPool) {
  TestDatabase db;
  db.import(seed());
  search::PgSearchClient client(make_pool(db.url()), std::chrono::seconds(10));
  net::io_context ctx;
  int ok = 0;
  for (int i = 0; i < 100; ++i) {
    net::co_spawn(
        ctx,
        [&]() -> net::awaitable<void> {
          const search::SearchRequest request{"bass kick", std::nullopt, 10};
          const auto r = co_await client.search(request);
          if (!r.items.empty()) ++ok;
        },
        net::detached);
  }
  ctx.run();
  EXPECT_EQ(ok, 100);
}

TEST(PgSearchClient, AnUnreachableDatabaseIsAPromptError) {
  // A port nobody listens on.
  search::PgSearchClient client(make_pool("postgresql://postgres@127.0.0.1:1/none"),
                                std::chrono::seconds(5));
  const auto start = Clock::now();
  const auto out = run_search(client, {"bass", std::nullopt, 10});
  EXPECT_FALSE(out.result);
  EXPECT_NE(out.error.find("connect"), std::string::npos) << out.error;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  // Once it is known to be down, further searches fail at once.
  const auto again = Clock::now();
  EXPECT_FALSE(run_search(client, {"bass", std::nullopt, 10}).result);
  EXPECT_LT(Clock::now() - again, std::chrono::milliseconds(200));
}

TEST(PgSearchClient, ASlowDatabaseHitsTheStatementTimeout) {
  TestDatabase db;
  db.import(seed());
  // Hold a lock the search's reads wait on... reads do not wait on row locks,
  // so take an ACCESS EXCLUSIVE lock on the table instead.
  pqxx::connection blocker(db.url());
  pqxx::work lock(blocker);
  lock.exec0("LOCK TABLE search_documents IN ACCESS EXCLUSIVE MODE");
  search::PgSearchClient client(make_pool(db.url(), 300), std::chrono::seconds(5));
  const auto start = Clock::now();
  const auto out = run_search(client, {"bass", std::nullopt, 10});
  EXPECT_FALSE(out.result);
  EXPECT_NE(out.error.find("statement timeout"), std::string::npos) << out.error;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  lock.abort();
  EXPECT_TRUE(run_search(client, {"bass", std::nullopt, 10}).result) << "and it recovers";
}

TEST(PgSearchClient, CancellationResumesTheCallerAtOnce) {
  TestDatabase db;
  db.import(seed());
  pqxx::connection blocker(db.url());
  pqxx::work lock(blocker);
  lock.exec0("LOCK TABLE search_documents IN ACCESS EXCLUSIVE MODE");
  // The loop outlives the client: the pool's thread finishes the abandoned
  // query after the test releases the lock and posts to the loop, so the
  // pool must be joined (the client destroyed) while the loop still exists.
  net::io_context ctx;
  search::PgSearchClient client(make_pool(db.url(), 3000), std::chrono::seconds(5));
  net::cancellation_signal cancel;
  bool aborted = false;
  Clock::time_point resumed;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        try {
          const search::SearchRequest request{"bass", std::nullopt, 10};
          co_await client.search(request);
        } catch (const boost::system::system_error& e) {
          aborted = e.code() == net::error::operation_aborted;
        }
        resumed = Clock::now();
      },
      net::bind_cancellation_slot(cancel.slot(), net::detached));
  net::steady_timer timer(ctx, std::chrono::milliseconds(100));
  Clock::time_point cancelled_at;
  timer.async_wait([&](auto) {
    cancelled_at = Clock::now();
    cancel.emit(net::cancellation_type::terminal);
  });
  ctx.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(aborted);
  EXPECT_LT(resumed - cancelled_at, std::chrono::milliseconds(50));
  lock.abort();
}

// A follow-up searched in context has two statements that do not wait for
// each other (the question in its context, its own words alone): they
// run on two of the pool's connections at once. Both are held at a lock
// here, and the database sees both waiting together.
TEST(PgSearchClient, AFollowUpsTwoStatementsRunOnTwoConnectionsAtOnce) {
  TestDatabase db;
  db.import(seed());
  net::io_context ctx;  // outlives the client: see CancellationResumesTheCallerAtOnce
  search::PgSearchClient client(make_pool(db.url()), std::chrono::seconds(10));
  ASSERT_TRUE(run_search(client, {"bass", std::nullopt, 10}).result);  // connected, lexicon read
  pqxx::connection blocker(db.url());
  pqxx::work lock(blocker);
  lock.exec0("LOCK TABLE search_documents IN ACCESS EXCLUSIVE MODE");
  std::optional<search::SearchResult> found;
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        search::SearchRequest request{"and under the kick?", std::nullopt, 10};
        request.context = {"how do I sidechain a bass"};
        found = co_await client.search(request);
      },
      net::detached);
  std::thread loop([&] { ctx.run(); });
  pqxx::connection watcher(db.url());
  int waiting = 0;
  for (int i = 0; i < 300 && waiting < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    waiting = pqxx::nontransaction(watcher)
                  .exec1(
                      "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                      "'chrysopedia' AND wait_event_type = 'Lock'")[0]
                  .as<int>();
  }
  lock.abort();
  loop.join();
  EXPECT_EQ(waiting, 2) << "the two statements ran one after the other";
  ASSERT_TRUE(found);
  ASSERT_FALSE(found->items.empty());
  EXPECT_EQ(found->items.front().slug, "sidechain-bass");
}

// Apart or in turn, a follow-up finds the same: every second turn of the
// first conversation set, through the client and through run_cascade on
// one connection.
TEST(PgSearchClient, AFollowUpFindsWhatTheCascadeFindsOnOneConnection) {
  TestDatabase db;
  std::ifstream corpus(std::string(CHRYSOPEDIA_SOURCE_DIR) + "/data/sample-corpus.jsonl");
  db.import(std::string(std::istreambuf_iterator<char>(corpus), {}));
  search::PgSearchClient client(make_pool(db.url()), std::chrono::seconds(10));
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 10000);
  std::ifstream in(std::string(CHRYSOPEDIA_SOURCE_DIR) + "/data/retrieval-eval-followups.jsonl");
  int compared = 0;
  int apart = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto conversation = nlohmann::json::parse(line);
    search::SearchRequest request{conversation["turn2"].get<std::string>(), std::nullopt, 10};
    request.context = {conversation["turn1"].get<std::string>()};
    if (search::own_words_searched_apart(request)) ++apart;
    const auto expected = search::run_cascade(conn, request);
    const auto out = run_search(client, request);
    ASSERT_TRUE(out.result) << request.query << ": " << out.error;
    const auto keys = [](const search::SearchResult& r) {
      std::vector<std::string> k;
      for (const auto& item : r.items) k.push_back(item.slug + "#" + item.section_anchor);
      return k;
    };
    EXPECT_EQ(keys(*out.result), keys(expected)) << request.query;
    EXPECT_EQ(out.result->searched_query, expected.searched_query) << request.query;
    EXPECT_EQ(out.result->cascade_tier, expected.cascade_tier) << request.query;
    ++compared;
  }
  EXPECT_GE(compared, 40);
  EXPECT_GE(apart, 30) << "(one that says it changes the subject is searched alone)";
}

TEST(PgSearchClient, SurvivesAPostgresRestart) {
  const char* pg_ctl = std::getenv("CHRYSOPEDIA_TEST_PG_CTL");
  ASSERT_TRUE(pg_ctl) << "CHRYSOPEDIA_TEST_PG_CTL is not set: run the tests with scripts/test";
  TestDatabase db;
  db.import(seed());
  search::PgSearchClient client(make_pool(db.url()), std::chrono::seconds(10));
  ASSERT_TRUE(run_search(client, {"bass", std::nullopt, 10}).result);

  ASSERT_EQ(std::system((std::string(pg_ctl) + " -m fast -w restart > /dev/null").c_str()), 0);
  // The pooled connections died with the old server; the next search must
  // still succeed (one retry on a fresh connection).
  const auto out = run_search(client, {"bass", std::nullopt, 10});
  EXPECT_TRUE(out.result) << out.error;
}

TEST(PgPool, ConnectsEachThreadAtStartWhenAsked) {
  TestDatabase db;
  std::atomic<int> connected{0};
  search::PgPool::Options o;
  o.url = db.url();
  o.size = 3;
  o.connect_at_start = true;
  o.on_connect = [&connected](pqxx::connection_base&) { ++connected; };
  search::PgPool pool(o);
  // No job is submitted: every connection is made before the first search.
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (connected < 3 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(connected.load(), 3);
}

// One job at a time runs on the thread that went idle last, not on each
// thread in turn: at one user's pace one connection (and its backend)
// serves, and stays the least cold.
TEST(PgPool, AJobWakesTheThreadThatWentIdleLast) {
  TestDatabase db;
  search::PgPool::Options o;
  o.url = db.url();
  o.size = 3;
  o.connect_at_start = true;
  search::PgPool pool(o);
  // Every thread connected and idle (a job submitted while some still
  // connect goes to whichever comes first).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::set<std::thread::id> ran_on;
  for (int i = 0; i < 12; ++i) {
    std::promise<std::thread::id> done;
    pool.submit(
        [&done](pqxx::connection_base*, const std::string&) {
          done.set_value(std::this_thread::get_id());
          return false;
        },
        Clock::now() + std::chrono::seconds(10));
    ran_on.insert(done.get_future().get());
    // Every thread idle again (the one that ran sets the promise before it
    // goes back to wait) before the next job.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(ran_on.size(), 1u);
}

TEST(PgPool, ConnectsOnTheFirstJobByDefault) {
  TestDatabase db;
  std::atomic<int> connected{0};
  search::PgPool::Options o;
  o.url = db.url();
  o.size = 2;
  o.on_connect = [&connected](pqxx::connection_base&) { ++connected; };
  search::PgPool pool(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(connected.load(), 0);
}

// After a failed connect the pool fails fast, but never past the moment the
// database is back: the first job after it returns connects. (With a fixed
// fail-fast window, a connect that failed while Postgres shut down - say a
// background read - failed the searches just after it came back.)
TEST(PgPool, TheFirstJobAfterTheDatabaseReturnsConnects) {
  const char* pg_ctl = std::getenv("CHRYSOPEDIA_TEST_PG_CTL");
  const char* pg_start = std::getenv("CHRYSOPEDIA_TEST_PG_START");
  ASSERT_TRUE(pg_ctl && pg_start) << "run the tests with scripts/test";
  TestDatabase db;
  search::PgPool::Options o;
  o.url = db.url();
  o.size = 2;
  search::PgPool pool(o);
  ASSERT_TRUE(submit_job(pool).get().connected);

  ASSERT_EQ(run_pg_ctl(std::string(pg_ctl) + " -m fast -w stop"), 0);
  // Jobs meet the stopped server (the broken connection is replaced by a
  // connect that fails).
  auto down_a = submit_job(pool);
  auto down_b = submit_job(pool);
  EXPECT_FALSE(down_a.get().connected);
  EXPECT_FALSE(down_b.get().connected);
  const bool restarted = run_pg_ctl(pg_start) == 0;
  ASSERT_TRUE(restarted);
  const auto a = submit_job(pool).get();
  EXPECT_TRUE(a.connected) << a.error;
  const auto b = submit_job(pool).get();
  EXPECT_TRUE(b.connected) << b.error;
}

// While the database hangs, one job at a time waits to connect; the others
// fail at once, saying why.
TEST(PgPool, WhileTheDatabaseHangsOneJobAtATimeTriesToConnect) {
  SilentPort silent;
  search::PgPool::Options o;
  o.url = "postgresql://chrysopedia@127.0.0.1:" + std::to_string(silent.port()) + "/chrysopedia";
  o.size = 2;
  o.connect_timeout = std::chrono::milliseconds(1000);
  search::PgPool pool(o);
  const auto first = submit_job(pool).get();
  ASSERT_FALSE(first.connected);
  ASSERT_NE(first.error.find("cannot connect to the database"), std::string::npos) << first.error;

  auto b = submit_job(pool);
  auto c = submit_job(pool);
  const auto end_b = b.get();
  const auto end_c = c.get();
  const auto& fast = end_b.at < end_c.at ? end_b : end_c;
  const auto& slow = end_b.at < end_c.at ? end_c : end_b;
  EXPECT_EQ(fast.error.rfind("the database is unavailable (cannot connect", 0), 0u) << fast.error;
  EXPECT_EQ(slow.error.rfind("cannot connect to the database", 0), 0u)
      << "the other job tried again: " << slow.error;
}

TEST(WarmSearchSession, PlansTheSearchStatementsBeforeTheFirstSearch) {
  TestDatabase db;
  db.import(seed());
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 2000);
  search::warm_search_session(conn);
  pqxx::nontransaction tx(conn);
  const auto planned = [&tx](const std::string& name) {
    return tx
        .exec_params1(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE name = $1",
            name)[0]
        .as<int>();
  };
  EXPECT_GE(planned("full_text"), 1);
  EXPECT_GE(planned("fuzzy"), 1);
}

TEST(WarmSearchSession, ADatabaseWithoutTheSchemaIsNoError) {
  TestDatabase db;
  pqxx::connection conn(db.url());
  pqxx::nontransaction(conn).exec0(
      "DROP TABLE IF EXISTS search_documents, lexeme_champions CASCADE");
  search::configure_search_session(conn, 2000);
  EXPECT_NO_THROW(search::warm_search_session(conn));
}

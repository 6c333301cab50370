// The Postgres that scripts/test starts is real, reachable, has what the
// search needs (pg_trgm), and runs as deployed (its malloc settings).
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "search/cascade.hpp"
#include "support/process_stats.hpp"
#include "support/test_database.hpp"

TEST(TestPostgres, AnswersAndHasTrigramSupport) {
  chrysopedia::test::TestDatabase db;  // its own database: extensions are per database
  pqxx::connection conn(db.url());
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec1("SELECT 41 + 1")[0].as<int>(), 42);
  EXPECT_GE(tx.exec1("SHOW server_version_num")[0].as<int>(), 150000);
  EXPECT_GT(tx.exec1("SELECT similarity('sidechain', 'sidechian')")[0].as<double>(), 0.3);
  tx.abort();
}

TEST(TestPostgres, ABackendKeepsItsHeapBetweenSearches) {
  // scripts/lib/services.sh starts Postgres with glibc's trim threshold
  // raised, as docker-compose does: otherwise each search's freed executor
  // memory goes back to the kernel and the next search faults it in again
  // (about 130 page faults a search; under load, half a backend's time).
  chrysopedia::test::TestDatabase db;
  db.import(chrysopedia::test::sample_corpus());
  pqxx::connection conn(db.url());
  chrysopedia::search::configure_search_session(conn, 5000);
  const long pid = conn.backendpid();
  ASSERT_GE(chrysopedia::test::minor_page_faults(pid), 0) << "cannot read /proc/" << pid << "/stat";
  const std::vector<std::string> questions = {"how do I stop my kick and bass fighting?",
                                              "why does my mix sound quiet on spotify",
                                              "sidechain compression on a bass"};
  for (const auto& q : questions) chrysopedia::search::run_cascade(conn, {q, std::nullopt, 10});
  const long before = chrysopedia::test::minor_page_faults(pid);
  constexpr int kSearches = 300;
  for (int i = 0; i < kSearches; ++i) {
    chrysopedia::search::run_cascade(conn, {questions[i % questions.size()], std::nullopt, 10});
  }
  const double per_search = double(chrysopedia::test::minor_page_faults(pid) - before) / kSearches;
  EXPECT_LT(per_search, 10) << "page faults per search in the Postgres backend";
}

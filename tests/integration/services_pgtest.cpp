// The Postgres that scripts/test starts is real, reachable, and has what
// the search needs (pg_trgm).
#include <gtest/gtest.h>

#include <pqxx/pqxx>

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

// The Postgres that scripts/test starts is real, reachable, and has what
// the search needs (pg_trgm).
#include <gtest/gtest.h>

#include <cstdlib>

#include <pqxx/pqxx>

namespace {

std::string database_url() {
  const char* url = std::getenv("CHRYSOPEDIA_TEST_DATABASE_URL");
  if (!url) {
    ADD_FAILURE() << "CHRYSOPEDIA_TEST_DATABASE_URL is not set: run the tests with scripts/test";
    return "";
  }
  return url;
}

}  // namespace

TEST(TestPostgres, AnswersAndHasTrigramSupport) {
  pqxx::connection conn(database_url());
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec1("SELECT 41 + 1")[0].as<int>(), 42);
  EXPECT_GE(tx.exec1("SHOW server_version_num")[0].as<int>(), 150000);
  tx.exec0("CREATE EXTENSION IF NOT EXISTS pg_trgm");
  EXPECT_GT(tx.exec1("SELECT similarity('sidechain', 'sidechian')")[0].as<double>(), 0.3);
  tx.abort();
}

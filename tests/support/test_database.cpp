#include "support/test_database.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/importer.hpp"
#include "search/migrations.hpp"

namespace chrysopedia::test {

std::string test_postgres_url() {
  const char* url = std::getenv("CHRYSOPEDIA_TEST_DATABASE_URL");
  if (!url) {
    throw std::runtime_error(
        "CHRYSOPEDIA_TEST_DATABASE_URL is not set: run the tests with scripts/test");
  }
  return url;
}

TestDatabase::TestDatabase() : admin_url_(test_postgres_url()) {
  std::random_device rd;
  name_ = "chrysopedia_test_" + std::to_string(rd()) + std::to_string(rd() % 1000);
  {
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction tx(admin);
    tx.exec0("CREATE DATABASE " + name_);
  }
  const auto slash = admin_url_.rfind('/');
  url_ = admin_url_.substr(0, slash + 1) + name_;
  pqxx::connection conn(url_);
  search::apply_migrations(conn);
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction tx(admin);
    tx.exec0("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "could not drop " << name_ << ": " << e.what();
  }
}

void TestDatabase::import(const std::string& jsonl) const {
  pqxx::connection conn(url_);
  std::istringstream in(jsonl);
  const auto report = search::import_pages(conn, in);
  if (!report.bad_lines.empty()) {
    throw std::runtime_error("bad import line " + std::to_string(report.bad_lines[0].line) + ": " +
                             report.bad_lines[0].reason);
  }
}

std::string TestDatabase::scalar(const std::string& sql) const {
  pqxx::connection conn(url_);
  pqxx::nontransaction tx(conn);
  const auto r = tx.exec(sql);
  return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
}

void TestDatabase::undo_fuzzy_words_migration() const {
  pqxx::connection conn(url_);
  pqxx::work tx(conn);
  tx.exec0("DROP TABLE fuzzy_words");
  tx.exec0("DROP TABLE fuzzy_postings");
  tx.exec0("DROP FUNCTION fuzzy_words_of(text)");
  tx.exec0(
      "CREATE INDEX search_documents_fuzzy ON search_documents USING gin (fuzzy_text "
      "gin_trgm_ops)");
  tx.exec0("DELETE FROM schema_migrations WHERE version = 8");
  tx.commit();
}

std::string page_line(const std::string& slug, const std::string& title,
                      const std::string& creator_slug, const std::string& creator_name,
                      const std::string& category, const std::string& summary,
                      const std::string& sections_json, const std::string& tags_json) {
  nlohmann::json j = {{"slug", slug},
                      {"title", title},
                      {"creator", {{"slug", creator_slug}, {"name", creator_name}}},
                      {"topic_category", category},
                      {"topic_tags", nlohmann::json::parse(tags_json)},
                      {"summary", summary},
                      {"sections", nlohmann::json::parse(sections_json)}};
  return j.dump() + "\n";
}

std::string sample_corpus() {
  std::ifstream in(std::string(CHRYSOPEDIA_SOURCE_DIR) + "/data/sample-corpus.jsonl");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace chrysopedia::test

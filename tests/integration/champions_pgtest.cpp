// The champion lists behind search: maintained by import exactly as a full
// rebuild would make them, capped, complete for rare words, and free of
// documents that no longer exist.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include <pqxx/pqxx>

#include "search/cascade.hpp"
#include "search/champions.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;

namespace {

using Entry = std::tuple<std::string, long long>;

std::set<Entry> champions(const TestDatabase& db) {
  pqxx::connection conn(db.url());
  pqxx::nontransaction tx(conn);
  std::set<Entry> out;
  for (const auto& row : tx.exec("SELECT lexeme, doc_id FROM lexeme_champions")) {
    out.emplace(row[0].as<std::string>(), row[1].as<long long>());
  }
  return out;
}

std::string corpus(int pages, const std::string& extra_word_for_first = "") {
  std::string text;
  for (int i = 0; i < pages; ++i) {
    const std::string body = "common words here " + std::string(i < 3 ? "rareword " : "") +
                             (i == 0 ? extra_word_for_first : "") + " filler " + std::to_string(i);
    text += page_line("p" + std::to_string(i), "Page number " + std::to_string(i), "c", "C",
                      "mixing", body,
                      R"([{"anchor": "a", "heading": "Details", "content": "more common text"}])");
  }
  return text;
}

}  // namespace

TEST(Champions, IncrementalMaintenanceEqualsAFullRebuild) {
  TestDatabase db;
  db.import(corpus(80));
  db.import(corpus(150));  // re-imports 80, adds 70: merge, trim, removal all exercised
  const auto incremental = champions(db);
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    search::rebuild_champions(tx);
    tx.commit();
  }
  EXPECT_EQ(incremental, champions(db));
}

TEST(Champions, ListsAreCappedAndRareWordsAreComplete) {
  TestDatabase db;
  db.import(corpus(150));
  EXPECT_EQ(
      db.scalar("SELECT max(n) FROM (SELECT count(*) n FROM lexeme_champions GROUP BY lexeme) s"),
      std::to_string(search::kChampionsPerLexeme));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_champions WHERE lexeme = 'common'"), "100")
      << "'common' is in 300 documents";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_champions WHERE lexeme = 'rareword'"), "3");
}

TEST(Champions, AReimportedPageLeavesNoStaleEntries) {
  TestDatabase db;
  db.import(corpus(5, "zebrafoo"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_champions WHERE lexeme = 'zebrafoo'"), "1");
  db.import(corpus(5));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_champions WHERE lexeme = 'zebrafoo'"), "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_champions c"
                      " WHERE NOT EXISTS (SELECT 1 FROM search_documents d WHERE d.id = c.doc_id)"),
            "0");
}

TEST(Champions, ABulkImportRebuildsConsistentLists) {
  TestDatabase db;
  db.import(corpus(2100));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_champions c"
                      " WHERE NOT EXISTS (SELECT 1 FROM search_documents d WHERE d.id = c.doc_id)"),
            "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_champions WHERE lexeme = 'rareword'"), "3");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_champions WHERE lexeme = 'common'"), "100");
}

TEST(Champions, ACommonWordStillFindsTheBestPages) {
  TestDatabase db;
  db.import(corpus(150) + page_line("common-ground", "Common ground", "c", "C", "mixing", "x"));
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 5000);
  const auto r = search::run_cascade(conn, {"common", std::nullopt, 10});
  ASSERT_EQ(r.items.size(), 10u);
  EXPECT_EQ(r.items[0].slug, "common-ground") << "the word in a title beats 300 body mentions";
  const auto rare = search::run_cascade(conn, {"rareword common", std::nullopt, 10});
  ASSERT_GE(rare.items.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(rare.items[i].slug == "p0" || rare.items[i].slug == "p1" ||
                rare.items[i].slug == "p2")
        << "all-words matches come first: " << rare.items[i].slug;
  }
}

TEST(Champions, AnExclusionCannotLeaveAQueryShort) {
  // Fifty pages hold both words in their titles and "sidechain"; ten hold
  // only "compression", in the body. Cut to the best-scored champions first,
  // "-sidechain" would remove every candidate and leave nothing to answer.
  std::string text;
  for (int i = 0; i < 60; ++i) {
    text += i < 50 ? page_line("s" + std::to_string(i), "Glue compression " + std::to_string(i),
                               "c", "C", "mixing", "sidechain pumping")
                   : page_line("b" + std::to_string(i), "Page " + std::to_string(i), "c", "C",
                               "mixing", "a long body mentioning compression once");
  }
  TestDatabase db;
  db.import(text);
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 5000);
  const auto r = search::run_cascade(conn, {"glue compression -sidechain", std::nullopt, 10});
  EXPECT_EQ(r.cascade_tier, "global");
  ASSERT_EQ(r.items.size(), 10u);
  for (const auto& item : r.items) EXPECT_EQ(item.slug[0], 'b') << item.slug;
}

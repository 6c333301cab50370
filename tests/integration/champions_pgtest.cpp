// The champion lists behind search: maintained by import exactly as a full
// rebuild would make them, capped, complete for rare words, and free of
// documents that no longer exist.
#include <gtest/gtest.h>

#include <set>
#include <tuple>
#include <vector>

#include <pqxx/pqxx>

#include "search/cascade.hpp"
#include "search/champions.hpp"
#include "search/list_cache.hpp"
#include "search/migrations.hpp"
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

// lexeme_lists as (lexeme, doc, score) rows in list order, and
// lexeme_champions in the order a list keeps them: equal when the one row
// per lexeme says what the rows say.
std::vector<std::string> lists_as_rows(const TestDatabase& db) {
  pqxx::connection conn(db.url());
  pqxx::nontransaction tx(conn);
  std::vector<std::string> out;
  for (const auto& row : tx.exec("SELECT l.lexeme || ' ' || d || ' ' || s FROM lexeme_lists l,"
                                 " unnest(l.doc_ids, l.scores) WITH ORDINALITY AS u(d, s, n)"
                                 " ORDER BY l.lexeme, u.n")) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

std::vector<std::string> champion_rows(const TestDatabase& db) {
  pqxx::connection conn(db.url());
  pqxx::nontransaction tx(conn);
  std::vector<std::string> out;
  for (const auto& row : tx.exec("SELECT lexeme || ' ' || doc_id || ' ' || score"
                                 " FROM lexeme_champions ORDER BY lexeme, score DESC, doc_id")) {
    out.push_back(row[0].as<std::string>());
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
  const auto incremental_lists = lists_as_rows(db);
  EXPECT_EQ(incremental_lists, champion_rows(db)) << "one row per lexeme, the same lists";
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    search::rebuild_champions(tx);
    tx.commit();
  }
  EXPECT_EQ(incremental, champions(db));
  EXPECT_EQ(incremental_lists, lists_as_rows(db));
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
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lexeme_lists WHERE lexeme = 'zebrafoo'"), "0")
      << "a lexeme no page holds any more has no list row";
  EXPECT_EQ(lists_as_rows(db), champion_rows(db));
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
  EXPECT_EQ(lists_as_rows(db), champion_rows(db));
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

TEST(Champions, ADatabaseFromBeforeTheListRowsGetsThemWhenMigrated) {
  TestDatabase db;
  db.import(corpus(30, "zebrafoo"));
  db.undo_fuzzy_words_migration();  // (migration 8 comes after them)
  {
    // As a database imported before migration 6 was: rows, no list rows
    // (nor their generation, migration 7).
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec0("DROP TABLE lexeme_lists");
    tx.exec0("DROP TABLE lexeme_lists_generation");
    tx.exec0("DROP FUNCTION bump_lexeme_lists_generation()");
    tx.exec0("DELETE FROM schema_migrations WHERE version >= 6");
    tx.commit();
  }
  pqxx::connection conn(db.url());
  EXPECT_EQ(search::apply_migrations(conn), 3);
  EXPECT_EQ(lists_as_rows(db), champion_rows(db));
  search::configure_search_session(conn, 5000);
  const auto r = search::run_cascade(conn, {"zebrafoo", std::nullopt, 10});
  ASSERT_FALSE(r.items.empty());
  EXPECT_EQ(r.items[0].slug, "p0");
}

// Lists kept in memory between searches follow the database: an import
// that changes them moves their generation on (a trigger), and a search
// that meets a moved generation reads them again, whether the ranking
// found something with the old lists or nothing.
TEST(Champions, ListsKeptInMemoryFollowAnImport) {
  TestDatabase db;
  db.import(corpus(150));
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 5000);
  search::ListCache cache(1 << 20);
  const auto first = search::run_cascade(conn, {"common zebrafoo", std::nullopt, 10}, {}, &cache);
  EXPECT_EQ(first.items.size(), 10u);
  EXPECT_EQ(search::run_cascade(conn, {"zebrafoo", std::nullopt, 10}, {}, &cache).cascade_tier,
            "none");
  const auto before = cache.stats();
  EXPECT_EQ(before.words, 2u) << "common, zebrafoo (its empty list too)";

  // A late page (highest id: outside common's capped list) that alone
  // holds the new word.
  db.import(page_line("zz-late", "Late page", "c", "C", "mixing", "common zebrafoo words", "[]"));
  const auto both = search::run_cascade(conn, {"common zebrafoo", std::nullopt, 10}, {}, &cache);
  ASSERT_FALSE(both.items.empty());
  EXPECT_EQ(both.items[0].slug, "zz-late") << "ranked with the lists as they are now";
  const auto alone = search::run_cascade(conn, {"zebrafoo", std::nullopt, 10}, {}, &cache);
  EXPECT_EQ(alone.cascade_tier, "global") << "found though memory said the word had no list";
  ASSERT_FALSE(alone.items.empty());
  EXPECT_EQ(alone.items[0].slug, "zz-late");
  EXPECT_GT(cache.stats().generation, before.generation);
}

TEST(Champions, EveryChangeToTheListsMovesTheirGeneration) {
  TestDatabase db;
  db.import(corpus(5));
  const auto generation = [&db] {
    return std::stoll(db.scalar("SELECT generation FROM lexeme_lists_generation"));
  };
  auto last = generation();
  const auto moved = [&](const std::string& sql) {
    db.scalar(sql + "; SELECT 1");
    const auto now = generation();
    EXPECT_GT(now, last) << sql;
    last = now;
  };
  moved("UPDATE lexeme_lists SET scores = scores WHERE lexeme = 'common'");
  moved("DELETE FROM lexeme_lists WHERE lexeme = 'filler'");
  moved("INSERT INTO lexeme_lists VALUES ('x', '{1}', '{1}')");
  moved("TRUNCATE lexeme_lists");
  db.import(corpus(6));
  EXPECT_GT(generation(), last) << "an import";
}

// The lexicon in memory: the in-process stemmer agrees with Postgres on
// every word we have, the lists are read whole or not at all, and searches
// through them follow an import as searches through the database do.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/cascade.hpp"
#include "search/document_store.hpp"
#include "search/lexicon.hpp"
#include "search/list_cache.hpp"
#include "search/stemmer.hpp"
#include "search/thesaurus.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string common_corpus(int pages) {
  std::string text;
  for (int i = 0; i < pages; ++i) {
    text += page_line("p" + std::to_string(i), "Page number " + std::to_string(i), "c", "C",
                      "mixing", "common words here filler " + std::to_string(i));
  }
  return text;
}

}  // namespace

TEST(Lexicon, TheStemmerStemsEveryWordOfOurDataAsPostgresDoes) {
  TestDatabase db;
  std::set<std::string> words;
  const std::regex word("[A-Za-z]+");
  for (const char* file :
       {"/data/sample-corpus.jsonl", "/data/retrieval-eval.jsonl",
        "/data/retrieval-eval-holdout.jsonl", "/data/retrieval-eval-followups.jsonl"}) {
    const auto text = read_file(std::string(CHRYSOPEDIA_SOURCE_DIR) + file);
    ASSERT_FALSE(text.empty()) << file;
    for (std::sregex_iterator it(text.begin(), text.end(), word), end; it != end; ++it) {
      words.insert(it->str());
    }
  }
  for (auto& phrase : search::Thesaurus::builtin().phrases()) words.insert(phrase);
  ASSERT_GT(words.size(), 3000u);
  pqxx::connection conn(db.url());
  pqxx::nontransaction tx(conn);
  const nlohmann::json asked = words;
  std::size_t compared = 0;
  for (const auto& row :
       tx.exec_params("SELECT w, array_to_string(tsvector_to_array(to_tsvector('english', w)), ' ')"
                      " FROM jsonb_array_elements_text($1::jsonb) w",
                      asked.dump())) {
    const auto w = row[0].as<std::string>();
    const auto ours = search::english_lexemes(w);
    if (!ours) continue;
    std::set<std::string> theirs;
    const auto array = row[1].as<std::string>() + " ";
    std::string lexeme;
    for (const char c : array) {
      if (c == ' ') {
        if (!lexeme.empty()) theirs.insert(lexeme);
        lexeme.clear();
      } else {
        lexeme += c;
      }
    }
    EXPECT_EQ(std::set<std::string>(ours->begin(), ours->end()), theirs) << w;
    ++compared;
  }
  EXPECT_GT(compared, 3000u);
}

TEST(Lexicon, IsReadWholeWithItsGenerationOrNotAtAll) {
  TestDatabase db;
  db.import(common_corpus(20));
  pqxx::connection conn(db.url());
  const auto read = search::read_lexicon(conn, 1 << 20);
  ASSERT_TRUE(read.lexicon) << read.why_not;
  EXPECT_EQ(read.lexicon->lists.size(), std::stoul(db.scalar("SELECT count(*) FROM lexeme_lists")));
  EXPECT_EQ(read.generation,
            std::stoll(db.scalar("SELECT generation FROM lexeme_lists_generation")));
  EXPECT_EQ(read.lexicon->generation, read.generation);
  ASSERT_TRUE(read.lexicon->lists.contains("common"));
  EXPECT_EQ(read.lexicon->lists.at("common")->doc_ids.size(), 20u);

  const auto small = search::read_lexicon(conn, 1000);
  EXPECT_FALSE(small.lexicon);
  EXPECT_EQ(small.why_not, "too_big");
  EXPECT_GT(small.bytes, 1000u);
}

TEST(Lexicon, IsNotKeptWhenThisPostgresStemsOtherwise) {
  TestDatabase db;
  db.import(common_corpus(3));
  // A database whose English dictionary drops other words than ours (as
  // another Postgres's Snowball might stem otherwise): its own catalog.
  db.scalar("ALTER TEXT SEARCH DICTIONARY english_stem (StopWords = danish); SELECT 1");
  pqxx::connection conn(db.url());
  const auto read = search::read_lexicon(conn, 1 << 20);
  EXPECT_FALSE(read.lexicon);
  EXPECT_EQ(read.why_not.rfind("stemmer_disagrees", 0), 0u) << read.why_not;
}

TEST(Lexicon, SearchesThroughItFollowAnImport) {
  TestDatabase db;
  db.import(common_corpus(150));
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 5000);
  search::ListCache cache(1 << 20);
  cache.set_lexicon(search::read_lexicon(conn, 1 << 20).lexicon);
  ASSERT_FALSE(cache.lexicon_missing());
  const auto first = search::run_cascade(conn, {"common zebrafoo", std::nullopt, 10}, {}, &cache);
  EXPECT_EQ(first.items.size(), 10u);
  EXPECT_EQ(cache.stats().lexicon_hits, 2u) << "words never asked, found by their stems";
  EXPECT_EQ(cache.stats().misses, 0u) << "no statement read their lists";
  EXPECT_EQ(search::run_cascade(conn, {"zebrafoo", std::nullopt, 10}, {}, &cache).cascade_tier,
            "none");

  // A late page (highest id: outside common's capped list) that alone
  // holds the new word.
  db.import(page_line("zz-late", "Late page", "c", "C", "mixing", "common zebrafoo words", "[]"));
  const auto both = search::run_cascade(conn, {"common zebrafoo", std::nullopt, 10}, {}, &cache);
  ASSERT_FALSE(both.items.empty());
  EXPECT_EQ(both.items[0].slug, "zz-late") << "ranked with the lists as they are now";
  EXPECT_TRUE(cache.lexicon_missing()) << "the lexicon read before the import is dropped";
  const auto alone = search::run_cascade(conn, {"zebrafoo", std::nullopt, 10}, {}, &cache);
  EXPECT_EQ(alone.cascade_tier, "global");
  ASSERT_FALSE(alone.items.empty());
  EXPECT_EQ(alone.items[0].slug, "zz-late");
}

TEST(DocumentStore, IsReadWholeWithItsGenerationOrNotAtAll) {
  TestDatabase db;
  db.import(common_corpus(20));
  pqxx::connection conn(db.url());
  const auto read = search::read_document_store(conn, 64 << 20);
  ASSERT_NE(read.store, nullptr);
  EXPECT_EQ(read.store->documents.size(), 20u);
  EXPECT_EQ(read.store->generation,
            std::stoll(db.scalar("SELECT generation FROM lexeme_lists_generation")));
  EXPECT_GT(read.bytes, 0u);
  const auto small = search::read_document_store(conn, 1024);
  EXPECT_EQ(small.store, nullptr);
  EXPECT_EQ(small.why_not, "too_big");
}

TEST(DocumentStore, SearchesThroughItFollowAnImport) {
  TestDatabase db;
  db.import(common_corpus(150));
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 5000);
  search::ListCache cache(1 << 20);
  cache.set_lexicon(search::read_lexicon(conn, 1 << 20).lexicon);
  cache.set_documents(search::read_document_store(conn, 64 << 20).store);
  ASSERT_NE(cache.documents(), nullptr);
  const auto first = search::run_cascade(conn, {"common words", std::nullopt, 10}, {}, &cache);
  EXPECT_EQ(first.items.size(), 10u);
  EXPECT_EQ(cache.stats().memory_rankings, 1u) << "ranked in the process";
  // What only Postgres's parser reads for sure goes to the statement.
  const auto hyphen =
      search::run_cascade(conn, {"common words in 3d", std::nullopt, 10}, {}, &cache);
  EXPECT_FALSE(hyphen.items.empty());
  EXPECT_EQ(cache.stats().memory_rankings, 1u);

  // A late page (highest id: outside common's capped list) that alone
  // holds the new word, and one titled as the question.
  db.import(page_line("zz-late", "Late page", "c", "C", "mixing", "common zebrafoo words", "[]") +
            page_line("zz-title", "Common words", "c", "C", "mixing", "filler", "[]"));
  // Every word's lists are in memory, of the generation before: the
  // database's own says the ranking must be the statement's.
  const auto titled = search::run_cascade(conn, {"common words", std::nullopt, 10}, {}, &cache);
  ASSERT_FALSE(titled.items.empty());
  EXPECT_EQ(titled.items[0].slug, "zz-title") << "the page imported since, by its title";
  const auto both = search::run_cascade(conn, {"common zebrafoo", std::nullopt, 10}, {}, &cache);
  ASSERT_FALSE(both.items.empty());
  EXPECT_EQ(both.items[0].slug, "zz-late") << "ranked with the documents as they are now";
  EXPECT_EQ(cache.documents(), nullptr) << "the documents read before the import are dropped";
  EXPECT_EQ(cache.stats().memory_rankings, 1u);
}

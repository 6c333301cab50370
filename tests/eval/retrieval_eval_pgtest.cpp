// Retrieval quality on the sample corpus, per kind of question (keyword,
// lay, synonym, typo, long, non-English; written by someone who never read
// the search code) and for two-turn conversations. Prints recall@1,
// recall@5 and MRR per kind and fails if any falls below the floor in
// data/retrieval-eval-floor.json, so ranking changes cannot quietly
// regress. The targets of issue 16 are above the floors; the tables in
// docs/PERFORMANCE.md say where each kind stands.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/cascade.hpp"
#include "search/document_store.hpp"
#include "search/lexicon.hpp"
#include "search/list_cache.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
using nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<json> read_lines(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// The rank (1-based) of the first relevant page among the result's pages
// (a page's sections count as the page), 0 when none is there.
int rank_of(const search::SearchResult& result, const json& relevant) {
  std::vector<std::string> pages;
  for (const auto& item : result.items) {
    if (std::find(pages.begin(), pages.end(), item.slug) == pages.end()) pages.push_back(item.slug);
  }
  for (std::size_t i = 0; i < pages.size(); ++i) {
    for (const auto& r : relevant) {
      if (r == pages[i]) return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

struct Score {
  int n = 0, hit1 = 0, hit5 = 0;
  double reciprocal = 0;
  void add(int rank) {
    ++n;
    hit1 += rank == 1;
    hit5 += rank >= 1 && rank <= 5;
    reciprocal += rank > 0 ? 1.0 / rank : 0;
  }
  double recall1() const { return n ? double(hit1) / n : 0; }
  double recall5() const { return n ? double(hit5) / n : 0; }
  double mrr() const { return n ? reciprocal / n : 0; }
};

std::string table(const std::map<std::string, Score>& by_kind, const Score& all) {
  std::string out = "| kind | n | recall@1 | recall@5 | MRR |\n|---|---|---|---|---|\n";
  for (const auto& [kind, s] : by_kind) {
    out += fmt::format("| {} | {} | {:.3f} | {:.3f} | {:.3f} |\n", kind, s.n, s.recall1(),
                       s.recall5(), s.mrr());
  }
  out += fmt::format("| all | {} | {:.3f} | {:.3f} | {:.3f} |\n", all.n, all.recall1(),
                     all.recall5(), all.mrr());
  return out;
}

void expect_floor(const json& floor, const std::string& name, const Score& s) {
  if (!floor.contains(name)) {
    ADD_FAILURE() << "no floor for " << name << " in data/retrieval-eval-floor.json";
    return;
  }
  const auto& f = floor[name];
  EXPECT_GE(s.recall1(), f["recall_at_1"].get<double>()) << name;
  EXPECT_GE(s.recall5(), f["recall_at_5"].get<double>()) << name;
  EXPECT_GE(s.mrr(), f["mrr"].get<double>()) << name;
}

class RetrievalEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new TestDatabase();
    db_->import(read_file(root() + "/data/sample-corpus.jsonl"));
    conn_ = new pqxx::connection(db_->url());
    search::configure_search_session(*conn_, 10000);
    floor_ = json::parse(read_file(root() + "/data/retrieval-eval-floor.json"));
  }
  static void TearDownTestSuite() {
    delete conn_;
    delete db_;
  }
  static std::string root() { return CHRYSOPEDIA_SOURCE_DIR; }

  static TestDatabase* db_;
  static pqxx::connection* conn_;
  static json floor_;
};

TestDatabase* RetrievalEval::db_ = nullptr;
pqxx::connection* RetrievalEval::conn_ = nullptr;
json RetrievalEval::floor_;

}  // namespace

// Each question of a set, scored per kind; prints the table and the misses.
std::pair<std::map<std::string, Score>, Score> score_questions(pqxx::connection& conn,
                                                               const std::vector<json>& questions,
                                                               const std::string& title) {
  std::map<std::string, Score> by_kind;
  Score all;
  std::string misses;
  for (const auto& q : questions) {
    search::SearchRequest request{q["question"].get<std::string>(), std::nullopt, 10};
    if (q.contains("creator") && q["creator"].is_string()) request.creator = q["creator"];
    const auto result = search::run_cascade(conn, request);
    const int rank = rank_of(result, q["relevant"]);
    const std::string kind = q.value("kind", "unlabelled");
    by_kind[kind].add(rank);
    all.add(rank);
    if (rank != 1) {
      misses += fmt::format("  rank {:>2} {:<11} [{}] {}  (want {}, got {})\n", rank, kind,
                            result.cascade_tier, request.query, q["relevant"][0].get<std::string>(),
                            result.items.empty() ? "nothing" : result.items[0].slug);
    }
  }
  std::cout << "retrieval eval, " << title << ":\n"
            << table(by_kind, all) << "not ranked first:\n"
            << misses;
  return {by_kind, all};
}

TEST_F(RetrievalEval, QuestionsOfEveryKindFindTheirPages) {
  const auto questions = read_lines(root() + "/data/retrieval-eval.jsonl");
  ASSERT_GE(questions.size(), 150u);
  const auto [by_kind, all] = score_questions(*conn_, questions, "single questions");
  expect_floor(floor_, "all", all);
  for (const auto& [kind, s] : by_kind) expect_floor(floor_, kind, s);
}

// Written last, by someone who saw neither the search code nor the other
// sets, after every ranking change above: the figure that was not tuned
// for. Held to a floor overall only (12 questions a kind is too few for
// a floor each).
// A set held to a floor overall: its questions (at least `at_least`), scored.
void expect_set_floor(pqxx::connection& conn, const json& floor, const std::string& file,
                      std::size_t at_least, const std::string& title, const std::string& name) {
  const auto questions = read_lines(std::string(CHRYSOPEDIA_SOURCE_DIR) + file);
  ASSERT_GE(questions.size(), at_least) << file;
  expect_floor(floor, name, score_questions(conn, questions, title).second);
}

TEST_F(RetrievalEval, HeldOutQuestionsFindTheirPages) {
  expect_set_floor(*conn_, floor_, "/data/retrieval-eval-holdout.jsonl", 72, "held-out questions",
                   "holdout");
}

// A third set (session 12), 16 questions a kind, written by a helper who
// saw only the corpus: scored before the thesaurus was widened by another
// helper who saw no question set, so neither set was tuned on.
TEST_F(RetrievalEval, FreshQuestionsFindTheirPages) {
  expect_set_floor(*conn_, floor_, "/data/retrieval-eval-fresh.jsonl", 96, "fresh questions",
                   "fresh");
}

// Each conversation's second turn, searched with its first as context,
// scored per kind; prints the table and the misses.
Score score_followups(pqxx::connection& conn, const std::vector<json>& conversations,
                      const std::string& title) {
  std::map<std::string, Score> by_kind;
  Score all;
  std::string misses;
  for (const auto& c : conversations) {
    search::SearchRequest request{c["turn2"].get<std::string>(), std::nullopt, 10};
    request.context = {c["turn1"].get<std::string>()};
    const auto result = search::run_cascade(conn, request);
    const int rank = rank_of(result, c["turn2_relevant"]);
    const std::string kind = "turn2-" + c["kind"].get<std::string>();
    by_kind[kind].add(rank);
    all.add(rank);
    if (rank != 1) {
      misses += fmt::format("  rank {:>2} {:<22} {} -> {}  (want {}, got {})\n", rank, kind,
                            c["turn1"].get<std::string>(), request.query,
                            c["turn2_relevant"][0].get<std::string>(),
                            result.items.empty() ? "nothing" : result.items[0].slug);
    }
  }
  std::cout << "retrieval eval, " << title << ":\n"
            << table(by_kind, all) << "not ranked first:\n"
            << misses;
  return all;
}

// A set of conversations held to a floor on its second turns.
void expect_followups_floor(pqxx::connection& conn, const json& floor, const std::string& file,
                            std::size_t at_least, const std::string& title,
                            const std::string& name) {
  const auto conversations = read_lines(std::string(CHRYSOPEDIA_SOURCE_DIR) + file);
  ASSERT_GE(conversations.size(), at_least) << file;
  expect_floor(floor, name, score_followups(conn, conversations, title));
}

TEST_F(RetrievalEval, FollowUpsFindWhatTheConversationIsAbout) {
  expect_followups_floor(*conn_, floor_, "/data/retrieval-eval-followups.jsonl", 40,
                         "second turns in context", "turn2");
}

// A fourth set (session 13), 20 questions a kind and 40 conversations,
// written by a helper who saw only the corpus, after every thesaurus
// entry and ranking rule above: scored before anything changed again.
TEST_F(RetrievalEval, FourthQuestionsFindTheirPages) {
  expect_set_floor(*conn_, floor_, "/data/retrieval-eval-fourth.jsonl", 120, "fourth set",
                   "fourth");
}

TEST_F(RetrievalEval, FourthSetFollowUpsFindWhatTheConversationIsAbout) {
  expect_followups_floor(*conn_, floor_, "/data/retrieval-eval-fourth-followups.jsonl", 40,
                         "fourth set, second turns in context", "fourth_turn2");
}

// A fifth set (session 17), the same shape as the fourth, written by a
// helper who read only the corpus, while the fusion of semantic ranks was
// chosen on the sets above: scored before it was seen.
TEST_F(RetrievalEval, FifthQuestionsFindTheirPages) {
  expect_set_floor(*conn_, floor_, "/data/retrieval-eval-fifth.jsonl", 120, "fifth set", "fifth");
}

TEST_F(RetrievalEval, FifthSetFollowUpsFindWhatTheConversationIsAbout) {
  expect_followups_floor(*conn_, floor_, "/data/retrieval-eval-fifth-followups.jsonl", 40,
                         "fifth set, second turns in context", "fifth_turn2");
}

// A sixth set (session 18), the same kinds, written by a helper who read
// only the corpus while misspelt words were being mended (spelling.hpp):
// its typos are mostly the key word misspelt in a sentence.
TEST_F(RetrievalEval, SixthQuestionsFindTheirPages) {
  expect_set_floor(*conn_, floor_, "/data/retrieval-eval-sixth.jsonl", 120, "sixth set", "sixth");
}

// A seventh set (session 19), the same kinds and 40 conversations, written
// by a helper who read only the corpus, at the session's start: scored
// before anything changed, the check on what the session tuned.
TEST_F(RetrievalEval, SeventhQuestionsFindTheirPages) {
  expect_set_floor(*conn_, floor_, "/data/retrieval-eval-seventh.jsonl", 120, "seventh set",
                   "seventh");
}

TEST_F(RetrievalEval, SeventhSetFollowUpsFindWhatTheConversationIsAbout) {
  expect_followups_floor(*conn_, floor_, "/data/retrieval-eval-seventh-followups.jsonl", 40,
                         "seventh set, second turns in context", "seventh_turn2");
}

// An eighth set (session 19) of conversations only, half of them quiet
// changes of subject, written by a helper who read only the corpus after
// the rule for a follow-up that stands alone (cascade.cpp) was chosen on
// the four sets above: scored once before it and once after.
TEST_F(RetrievalEval, EighthSetFollowUpsFindWhatTheConversationIsAbout) {
  expect_followups_floor(*conn_, floor_, "/data/retrieval-eval-eighth-followups.jsonl", 60,
                         "eighth set, second turns in context", "eighth_turn2");
}

// The lists a search keeps in memory change no ranking: every question of
// every set, asked twice through one cache (the second time from memory
// alone), gets exactly what a search without the cache gets.
// Every evaluation set's questions (with their creators), and the second
// turns of every conversation set in their context.
std::vector<search::SearchRequest> every_request(const std::string& root) {
  std::vector<search::SearchRequest> requests;
  for (const auto* file : {"/data/retrieval-eval.jsonl", "/data/retrieval-eval-holdout.jsonl",
                           "/data/retrieval-eval-fresh.jsonl", "/data/retrieval-eval-fourth.jsonl",
                           "/data/retrieval-eval-fifth.jsonl", "/data/retrieval-eval-sixth.jsonl",
                           "/data/retrieval-eval-seventh.jsonl"}) {
    for (const auto& q : read_lines(root + file)) {
      search::SearchRequest r{q["question"].get<std::string>(), std::nullopt, 10};
      if (q.contains("creator") && q["creator"].is_string()) r.creator = q["creator"];
      requests.push_back(std::move(r));
    }
  }
  // And second turns in their context (two rankings in one statement).
  for (const auto* file :
       {"/data/retrieval-eval-followups.jsonl", "/data/retrieval-eval-fourth-followups.jsonl",
        "/data/retrieval-eval-fifth-followups.jsonl",
        "/data/retrieval-eval-seventh-followups.jsonl",
        "/data/retrieval-eval-eighth-followups.jsonl"}) {
    for (const auto& c : read_lines(root + file)) {
      search::SearchRequest r{c["turn2"].get<std::string>(), std::nullopt, 10};
      r.context = {c["turn1"].get<std::string>()};
      requests.push_back(std::move(r));
    }
  }
  return requests;
}

TEST_F(RetrievalEval, ListsKeptInMemoryRankAsFreshOnesDo) {
  const auto requests = every_request(root());
  search::ListCache cache(16 << 20);
  // And with the whole lexicon in memory: words stemmed in the process.
  search::ListCache with_lexicon(16 << 20);
  with_lexicon.set_lexicon(search::read_lexicon(*conn_, 32 << 20).lexicon);
  ASSERT_FALSE(with_lexicon.lexicon_missing());
  const auto slugs = [](const search::SearchResult& r) {
    std::vector<std::string> out;
    for (const auto& item : r.items) out.push_back(item.slug + "#" + item.section_anchor);
    return out;
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& r : requests) {
      const auto fresh = search::run_cascade(*conn_, r);
      const auto kept = search::run_cascade(*conn_, r, {}, &cache);
      ASSERT_EQ(slugs(kept), slugs(fresh)) << r.query << " (pass " << pass << ")";
      ASSERT_EQ(kept.cascade_tier, fresh.cascade_tier) << r.query;
      const auto stemmed = search::run_cascade(*conn_, r, {}, &with_lexicon);
      ASSERT_EQ(slugs(stemmed), slugs(fresh)) << r.query << " (lexicon, pass " << pass << ")";
      ASSERT_EQ(stemmed.cascade_tier, fresh.cascade_tier) << r.query;
    }
  }
  const auto stats = cache.stats();
  EXPECT_GT(stats.hits, stats.misses) << "the second pass is served from memory";
  const auto lexicon = with_lexicon.stats();
  EXPECT_GT(lexicon.lexicon_hits, 10 * lexicon.misses)
      << "words of the first pass found through the lexicon, not read";
}

TEST_F(RetrievalEval, DocumentsKeptInMemoryRankAsThePostgresStatementDoes) {
  const auto requests = every_request(root());
  search::ListCache memory(16 << 20);
  memory.set_lexicon(search::read_lexicon(*conn_, 32 << 20).lexicon);
  memory.set_documents(search::read_document_store(*conn_, 64 << 20).store);
  ASSERT_NE(memory.documents(), nullptr);
  // The same lists, ranked by the statement.
  search::ListCache statement(16 << 20);
  statement.set_lexicon(search::read_lexicon(*conn_, 32 << 20).lexicon);
  std::size_t searches_in_process = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& r : requests) {
      const auto by_postgres = search::run_cascade(*conn_, r, {}, &statement);
      const auto before = memory.stats().memory_rankings;
      const auto in_process = search::run_cascade(*conn_, r, {}, &memory);
      searches_in_process += memory.stats().memory_rankings > before ? 1 : 0;
      ASSERT_EQ(in_process.items, by_postgres.items) << r.query << " (pass " << pass << ")";
      ASSERT_EQ(in_process.cascade_tier, by_postgres.cascade_tier) << r.query;
      ASSERT_EQ(in_process.searched_query, by_postgres.searched_query) << r.query;
    }
  }
  // Most rankings were made in the process: the comparison is of them.
  const auto stats = memory.stats();
  std::cout << "searches ranked in the process: " << searches_in_process << " of "
            << 2 * requests.size() << " (rankings: " << stats.memory_rankings << ")\n";
  EXPECT_GT(searches_in_process, requests.size());
  EXPECT_EQ(statement.stats().memory_rankings, 0u);
}

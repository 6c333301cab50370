// Retrieval quality on the sample corpus: producer-style questions, each
// with the pages that answer it. Reports recall@1, recall@5 and MRR and
// fails if any falls below the floor recorded in
// data/retrieval-eval-floor.json, so ranking changes cannot quietly regress.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/cascade.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(RetrievalEval, SampleCorpusQuestionsFindTheirPages) {
  const std::string root = CHRYSOPEDIA_SOURCE_DIR;
  TestDatabase db;
  db.import(read_file(root + "/data/sample-corpus.jsonl"));
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 10000);

  std::istringstream questions(read_file(root + "/data/retrieval-eval.jsonl"));
  std::string line;
  int n = 0, hit1 = 0, hit5 = 0;
  double reciprocal = 0;
  std::string misses;
  while (std::getline(questions, line)) {
    if (line.empty()) continue;
    const auto q = nlohmann::json::parse(line);
    search::SearchRequest request{q["question"].get<std::string>(), std::nullopt, 10};
    if (q.contains("creator") && q["creator"].is_string()) request.creator = q["creator"];
    const auto result = search::run_cascade(conn, request);
    // Rank pages, not items: a page's sections count as the page.
    std::vector<std::string> pages;
    for (const auto& item : result.items) {
      if (std::find(pages.begin(), pages.end(), item.slug) == pages.end()) pages.push_back(item.slug);
    }
    const auto& relevant = q["relevant"];
    int rank = 0;
    for (std::size_t i = 0; i < pages.size() && rank == 0; ++i) {
      for (const auto& r : relevant) {
        if (r == pages[i]) rank = static_cast<int>(i) + 1;
      }
    }
    ++n;
    if (rank == 1) ++hit1;
    if (rank >= 1 && rank <= 5) ++hit5;
    if (rank > 0) reciprocal += 1.0 / rank;
    if (rank != 1) {
      misses += fmt::format("  rank {:>2} [{}] {}  (want {}, got {})\n", rank, result.cascade_tier,
                            request.query, relevant[0].get<std::string>(),
                            pages.empty() ? "nothing" : pages[0]);
    }
  }
  ASSERT_GE(n, 40);
  const double recall1 = double(hit1) / n, recall5 = double(hit5) / n, mrr = reciprocal / n;
  std::cout << fmt::format("retrieval eval: {} questions, recall@1 {:.3f}, recall@5 {:.3f}, MRR {:.3f}\n",
                           n, recall1, recall5, mrr)
            << "not ranked first:\n" << misses;

  const auto floor = nlohmann::json::parse(read_file(root + "/data/retrieval-eval-floor.json"));
  EXPECT_GE(recall1, floor["recall_at_1"].get<double>());
  EXPECT_GE(recall5, floor["recall_at_5"].get<double>());
  EXPECT_GE(mrr, floor["mrr"].get<double>());
}

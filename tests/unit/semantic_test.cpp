// The parts of semantic search that need no peer: the int8 HNSW index, the
// rank fusion, and reading an embeddings endpoint's answer.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "llm/openai_embeddings_client.hpp"
#include "search/fusion.hpp"
#include "search/vector_index.hpp"

using namespace chrysopedia;

namespace {

std::vector<float> random_vector(std::mt19937& rng, int dimension) {
  std::normal_distribution<float> d;
  std::vector<float> v(static_cast<std::size_t>(dimension));
  for (auto& x : v) x = d(rng);
  return v;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += double{a[i]} * b[i];
    aa += double{a[i]} * a[i];
    bb += double{b[i]} * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

search::SearchItem item(const std::string& slug, const std::string& anchor = "") {
  return {"Title " + slug, slug, "C", "mixing", "text", anchor, anchor.empty() ? "" : "H"};
}

std::vector<std::string> slugs(const std::vector<search::SearchItem>& items) {
  std::vector<std::string> out;
  for (const auto& i : items)
    out.push_back(i.slug + (i.section_anchor.empty() ? "" : "#" + i.section_anchor));
  return out;
}

}  // namespace

TEST(VectorIndex, FindsEachStoredVectorFirstAndMeasuresCosineWithinOnePercent) {
  std::mt19937 rng(7);
  const int dim = 96;
  search::VectorIndex index(dim, 16);  // grows past its first capacity
  std::vector<std::vector<float>> stored;
  for (int i = 0; i < 500; ++i) {
    stored.push_back(random_vector(rng, dim));
    index.add(1000 + i, stored.back().data());
  }
  EXPECT_EQ(index.size(), 500u);
  int first = 0;
  double worst = 0;
  for (int i = 0; i < 500; ++i) {
    const auto hits = index.nearest(stored[i].data(), 5);
    ASSERT_EQ(hits.size(), 5u);
    if (hits[0].doc_id == 1000 + i) ++first;
    for (const auto& h : hits) {
      worst = std::max(worst, std::fabs(h.similarity - cosine(stored[i], stored[h.doc_id - 1000])));
    }
    for (std::size_t k = 1; k < hits.size(); ++k) {
      EXPECT_GE(hits[k - 1].similarity, hits[k].similarity);
    }
  }
  EXPECT_GE(first, 495);  // approximate, but near exact at this size
  EXPECT_LT(worst, 0.01);
}

TEST(VectorIndex, AZeroVectorIsSkippedAndAnEmptyIndexFindsNothing) {
  search::VectorIndex index(4, 4);
  const std::vector<float> zero(4, 0.0f), q{1, 0, 0, 0};
  EXPECT_TRUE(index.nearest(q.data(), 3).empty());
  index.add(1, zero.data());
  EXPECT_EQ(index.size(), 0u);
  index.add(2, q.data());
  EXPECT_TRUE(index.nearest(zero.data(), 3).empty());
  ASSERT_EQ(index.nearest(q.data(), 3).size(), 1u);
  EXPECT_NEAR(index.nearest(q.data(), 3)[0].similarity, 1.0, 1e-3);
}

TEST(VectorIndex, QuarterOfFloatMemory) {
  const int dim = 768;
  search::VectorIndex index(dim, 1000);
  std::mt19937 rng(1);
  for (int i = 0; i < 1000; ++i) index.add(i + 1, random_vector(rng, dim).data());
  // int8 vectors plus links: well under the 3,072 bytes a float vector takes alone.
  EXPECT_LT(index.memory_bytes() / 1000, 1100u);
}

TEST(FuseRankings, AnItemBothRankingsFoundOutranksOnesFoundByOne) {
  const auto fused = search::fuse_rankings({item("a"), item("b"), item("c")},
                                           {item("z"), item("c"), item("y")}, 10, false);
  EXPECT_EQ(slugs(fused), (std::vector<std::string>{"c", "a", "z", "b", "y"}));
}

TEST(FuseRankings, TiesKeepTheFullTextOrderThenTheSemanticOne) {
  const auto fused = search::fuse_rankings({item("a")}, {item("b")}, 10, false);
  EXPECT_EQ(slugs(fused), (std::vector<std::string>{"a", "b"}));
  const auto again = search::fuse_rankings({}, {item("q"), item("p")}, 10, false);
  EXPECT_EQ(slugs(again), (std::vector<std::string>{"q", "p"}));
}

TEST(FuseRankings, APageAndItsSectionAreDistinctAndTheLimitHolds) {
  const auto fused = search::fuse_rankings({item("a"), item("a", "s1")},
                                           {item("a", "s1"), item("b"), item("c")}, 2, false);
  EXPECT_EQ(slugs(fused), (std::vector<std::string>{"a#s1", "a"}));
}

TEST(FuseRankings, TheExactTitlePageStaysFirst) {
  const auto fused =
      search::fuse_rankings({item("exact"), item("b")}, {item("b"), item("c")}, 10, true);
  EXPECT_EQ(slugs(fused).front(), "exact");
  const auto unflagged =
      search::fuse_rankings({item("exact"), item("b")}, {item("b"), item("c")}, 10, false);
  EXPECT_EQ(slugs(unflagged).front(), "b");
}

TEST(EmbeddingsResponse, VectorsComeInInputOrderByIndex) {
  const auto v = llm::parse_embeddings_response(
      R"({"data":[{"index":1,"embedding":[0.5,1]},{"index":0,"embedding":[2,3]}]})", 2);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], (std::vector<float>{2, 3}));
  EXPECT_EQ(v[1], (std::vector<float>{0.5, 1}));
}

TEST(EmbeddingsResponse, AnAnswerOutOfShapeIsAClearError) {
  const auto fails = [](const char* body, std::size_t n, const char* says) {
    try {
      llm::parse_embeddings_response(body, n);
      ADD_FAILURE() << body << " was taken";
    } catch (const search::EmbeddingError& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  fails("not json", 1, "no \"data\"");
  fails(R"({"data":[{"embedding":[1]}]})", 2, "1 vectors for 2 texts");
  fails(R"({"data":[{"embedding":[1,2]},{"embedding":[1]}]})", 2, "dimensions 2 and 1");
  fails(R"({"data":[{"embedding":["x"]}]})", 1, "non-number");
  fails(R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]})", 2, "distinct");
  fails(R"({"data":[{"embedding":[]}]})", 1, "no vector");
}

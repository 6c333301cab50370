// The parts of semantic search that need no peer: the int8 HNSW index, the
// rank fusion, and reading an embeddings endpoint's answer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "chrysopedia/search/embedder.hpp"
#include "llm/embeddings_response.hpp"
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

// Documents come in topics: points around 40 centres, as texts of a
// corpus are, not spread evenly over the sphere.
class QuantizedIndex : public ::testing::TestWithParam<int> {};

TEST_P(QuantizedIndex, FindsWhatExactCosineFinds) {
  const int bits = GetParam();
  std::mt19937 rng(7);
  const int dim = 384;
  std::vector<std::vector<float>> centres;
  for (int c = 0; c < 40; ++c) centres.push_back(random_vector(rng, dim));
  std::normal_distribution<float> noise(0, 0.6f);
  search::VectorIndex::Options options;
  options.bits = bits;
  search::VectorIndex index(dim, 16, options);  // grows past its first capacity
  EXPECT_EQ(index.bits(), bits);
  std::vector<std::vector<float>> stored;
  for (int i = 0; i < 1200; ++i) {
    auto v = centres[i % 40];
    for (auto& x : v) x += noise(rng);
    stored.push_back(v);
    index.add(1000 + i, v.data());
  }
  EXPECT_EQ(index.size(), 1200u);
  int overlap = 0, self_first = 0;
  double worst = 0;
  const int queries = 200;
  for (int i = 0; i < queries; ++i) {
    const auto& q = stored[i];
    std::vector<std::pair<double, long long>> exact;
    for (int j = 0; j < 1200; ++j) exact.push_back({-cosine(q, stored[j]), 1000 + j});
    std::sort(exact.begin(), exact.end());
    const auto hits = index.nearest(q.data(), 10);
    ASSERT_EQ(hits.size(), 10u);
    if (hits[0].doc_id == 1000 + i) ++self_first;
    for (int k = 0; k < 10; ++k) {
      for (const auto& h : hits) overlap += h.doc_id == exact[k].second;
    }
    for (std::size_t k = 1; k < hits.size(); ++k) {
      EXPECT_GE(hits[k - 1].similarity, hits[k].similarity);
      worst =
          std::max(worst, std::fabs(hits[k].similarity - cosine(q, stored[hits[k].doc_id - 1000])));
    }
  }
  EXPECT_EQ(self_first, queries);
  // Neighbours in one topic differ by hundredths: 4 bits blur some of them.
  EXPECT_GE(overlap, queries * 10 * (bits == 8 ? 90 : 75) / 100)
      << "top-10 recall against exact cosine";
  EXPECT_LT(worst, bits == 8 ? 0.01 : 0.05);
}

INSTANTIATE_TEST_SUITE_P(Bits, QuantizedIndex, ::testing::Values(8, 4));

TEST(VectorIndex, DocumentsAddedSideBySideAreAllFound) {
  std::mt19937 rng(3);
  const int dim = 64;
  search::VectorIndex index(dim, 10);  // add_batch grows it first
  std::vector<long long> ids;
  std::vector<float> vectors;
  for (int i = 0; i < 3000; ++i) {
    ids.push_back(500 + i);
    const auto v = random_vector(rng, dim);
    vectors.insert(vectors.end(), v.begin(), v.end());
  }
  index.add_batch(ids, vectors, 2);
  ASSERT_EQ(index.size(), 3000u);
  int found = 0;
  for (int i = 0; i < 3000; i += 7) {
    found += index.nearest(vectors.data() + static_cast<std::size_t>(i) * dim, 1).at(0).doc_id ==
             500 + i;
  }
  EXPECT_GE(found, 3000 / 7 * 98 / 100);
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

TEST(VectorIndex, MemoryIsWhatTheEstimateSaidAndFourBitsHalveTheVectors) {
  const int dim = 768;
  std::mt19937 rng(1);
  std::size_t per_document[2];
  for (int bits : {8, 4}) {
    search::VectorIndex::Options options;
    options.bits = bits;
    search::VectorIndex index(dim, 1000, options);
    for (int i = 0; i < 1000; ++i) index.add(i + 1, random_vector(rng, dim).data());
    per_document[bits == 4] = index.memory_bytes() / 1000;
    EXPECT_LE(index.memory_bytes(), search::VectorIndex::estimate_bytes(dim, 1000, options));
    EXPECT_GE(index.memory_bytes() * 13 / 10,
              search::VectorIndex::estimate_bytes(dim, 1000, options));
  }
  EXPECT_LT(per_document[0], 1000u);  // a float vector alone is 3,072 bytes
  EXPECT_NEAR(static_cast<double>(per_document[0] - per_document[1]), dim / 2.0, 8);
}

TEST(FuseRankings, AgreementLiftsAnItemButAFullTextFirstKeepsItsPlace) {
  // Scores 1/(1 + rank), a semantic rank weighed 0.5: a .5, c .25 + .167,
  // b .333, z .25, y .125. (With k = 60 c, in both lists, passed a.)
  const auto fused = search::fuse_rankings({item("a"), item("b"), item("c")},
                                           {item("z"), item("c"), item("y")}, 10, false);
  EXPECT_EQ(slugs(fused), (std::vector<std::string>{"a", "c", "b", "z", "y"}));
}

TEST(FuseRankings, AFullTextSecondThatIsTheSemanticFirstTakesTheLead) {
  const auto fused =
      search::fuse_rankings({item("a"), item("b")}, {item("b"), item("q")}, 10, false);
  EXPECT_EQ(slugs(fused), (std::vector<std::string>{"b", "a", "q"}));
}

TEST(FuseRankings, TheSemanticWeightSetsWhereMeaningAloneRanks) {
  const std::vector<search::SearchItem> text{item("a"), item("b"), item("c")};
  // Half a full-text rank: the semantic first ties the full-text third and
  // comes after it (ties keep the full-text order).
  EXPECT_EQ(slugs(search::fuse_rankings(text, {item("z")}, 10, false)),
            (std::vector<std::string>{"a", "b", "c", "z"}));
  EXPECT_EQ(slugs(search::fuse_rankings(text, {item("z")}, 10, false, 1.0)),
            (std::vector<std::string>{"a", "z", "b", "c"}));
  EXPECT_EQ(slugs(search::fuse_rankings(text, {item("z")}, 10, false, 2.0)),
            (std::vector<std::string>{"z", "a", "b", "c"}));
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
  fails(R"({"data":[{"embedding":[1e39]}]})", 1, "non-finite");
}

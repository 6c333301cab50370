// Which champions go on to the exact ordering (search/candidates.hpp): the
// choice the full-text statement made in SQL before it moved to the
// service, on lists as lexeme_lists hands them over.
#include <gtest/gtest.h>

#include <numeric>

#include "search/candidates.hpp"

using chrysopedia::search::ChampionList;
using chrysopedia::search::choose_term_candidates;
using chrysopedia::search::parse_id_array;
using chrysopedia::search::parse_real_array;
using chrysopedia::search::TermLists;
using Ids = std::vector<long long>;

namespace {

// A list of `n` documents from `first` on, best first, weights falling.
ChampionList list(const std::string& lexeme, long long first, int n, float top = 1.0F) {
  ChampionList l{lexeme, {}, {}};
  for (int i = 0; i < n; ++i) {
    l.doc_ids.push_back(first + i);
    l.scores.push_back(top - 0.001F * static_cast<float>(i));
  }
  return l;
}

// A question of one-word terms, each written one way: a list a term.
Ids choose_candidates(const std::vector<ChampionList>& lists, int wanted, bool keep_all) {
  std::vector<TermLists> terms(lists.size());
  for (std::size_t i = 0; i < lists.size(); ++i) terms[i].ways.push_back({&lists[i]});
  return choose_term_candidates(terms, wanted, keep_all);
}

bool contains(const Ids& ids, long long id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

TEST(Candidates, AFewShortListsAreKeptWhole) {
  const auto c = choose_candidates({list("kick", 1, 5), list("snare", 3, 5)}, 10, false);
  EXPECT_EQ(c, (Ids{1, 2, 3, 4, 5, 6, 7})) << "ascending, each once";
}

TEST(Candidates, LongListsAreCutToTwoPerResultPlusFive) {
  // Two everyday words, 100 documents each, overlapping on 50..99.
  const auto c = choose_candidates({list("mix", 0, 100), list("sound", 50, 100)}, 10, false);
  EXPECT_EQ(c.size(), 25u);
  for (long long id = 50; id < 75; ++id) EXPECT_TRUE(contains(c, id)) << "on both lists: " << id;
  EXPECT_EQ(choose_candidates({list("mix", 0, 100)}, 5, false).size(), 15u);
}

TEST(Candidates, OnMoreListsBeatsAHigherWeight) {
  auto heavy = list("mix", 1000, 60, 50.0F);  // far heavier, on one list each
  const auto c = choose_candidates({heavy, list("sound", 1, 60), list("bus", 1, 60)}, 10, false);
  EXPECT_TRUE(contains(c, 1));
  EXPECT_FALSE(contains(c, 1000)) << "25 documents are on two lists";
}

TEST(Candidates, TheRarestWholeListIsKeptWhatever) {
  // "sidechain" is in 20 documents, none among the everyday words' best:
  // each could hold every word of the question, so all 20 stay.
  const auto c = choose_candidates(
      {list("mix", 0, 100), list("sidechain", 5000, 20), list("sound", 0, 100)}, 10, false);
  for (long long id = 5000; id < 5020; ++id) EXPECT_TRUE(contains(c, id)) << id;
  EXPECT_EQ(c.size(), 45u) << "and the 25 best of the rest";
}

TEST(Candidates, ACappedListIsNotTheRarestAndTiesGoToTheFirstLexeme) {
  // 26 documents is past the cap for 10 results (25): promises nothing.
  const auto capped = choose_candidates({list("a", 0, 26), list("b", 100, 100)}, 10, false);
  EXPECT_EQ(capped.size(), 25u);
  // Two whole lists of 20: the first in the database's order is kept whole.
  const auto tie = choose_candidates(
      {list("alpha", 0, 20), list("beta", 100, 20), list("gamma", 200, 100, 9.0F)}, 10, false);
  for (long long id = 0; id < 20; ++id) EXPECT_TRUE(contains(tie, id)) << id;
  EXPECT_FALSE(contains(tie, 100)) << "beta's list was not the one kept whole";
}

TEST(Candidates, AnExclusionKeepsEveryChampion) {
  const auto c = choose_candidates({list("mix", 0, 100), list("sound", 50, 100)}, 10, true);
  EXPECT_EQ(c.size(), 150u);
}

TEST(Candidates, NothingToChooseFromIsNoCandidates) {
  EXPECT_TRUE(choose_candidates({}, 10, false).empty());
  EXPECT_TRUE(choose_candidates({ChampionList{"x", {}, {}}}, 10, false).empty());
}

// At 100,000 pages every list is full (100 documents). "lowpass" came with
// the thesaurus's "low pass" and "high cut", whose everyday lexemes weigh
// more: counted per lexeme, all the candidates were low's and high's, none
// held the word or a phrase, and the search fell to the trigram tier.
TEST(Candidates, APhraseTheThesaurusAddsCannotCrowdOutTheWordAsTyped) {
  const auto lowpass = list("lowpass", 1000, 100, 0.5F);
  const auto low = list("low", 0, 100, 5.0F);
  const auto high = list("high", 200, 100, 5.0F);
  const ChampionList pass{"pass", {}, {}};  // in no document
  const ChampionList cut{"cut", {}, {}};
  const auto c =
      choose_term_candidates({TermLists{{{&lowpass}, {&low, &pass}, {&high, &cut}}}}, 10, false);
  EXPECT_EQ(c.size(), 25u);
  for (long long id = 1000; id < 1025; ++id) EXPECT_TRUE(contains(c, id)) << id;
  EXPECT_FALSE(contains(c, 0)) << "low alone cannot match \"low pass\"";
}

TEST(Candidates, APhraseCountsOnlyWhereAllItsWordsAre) {
  const auto low = list("low", 0, 30);
  const auto pass = list("pass", 20, 30);
  const auto c = choose_term_candidates({TermLists{{{&low, &pass}}}}, 10, false);
  EXPECT_EQ(c, (Ids{20, 21, 22, 23, 24, 25, 26, 27, 28, 29})) << "on both lists";
}

TEST(Candidates, TwoWaysOfOneTermCountOnce) {
  // Term A written two ways, both in documents 0..59 (heavy); terms B and C
  // both in 100..159 (light). Per lexeme both sets were on two lists and
  // the weight chose A's; per term B and C's documents hold two terms.
  const auto x = list("x", 0, 60, 9.0F);
  const auto y = list("y", 0, 60, 9.0F);
  const auto z = list("z", 100, 60);
  const auto w = list("w", 100, 60);
  const auto c = choose_term_candidates(
      {TermLists{{{&x}, {&y}}}, TermLists{{{&z}}}, TermLists{{{&w}}}}, 10, false);
  for (long long id = 100; id < 125; ++id) EXPECT_TRUE(contains(c, id)) << id;
  EXPECT_FALSE(contains(c, 0));
}

TEST(Candidates, ArraysAreReadInPostgresTextForm) {
  EXPECT_EQ(parse_id_array("{1,22,333}"), (Ids{1, 22, 333}));
  EXPECT_EQ(parse_id_array("{}"), Ids{});
  EXPECT_EQ(parse_real_array("{0.05,1,3e-05}"), (std::vector<float>{0.05F, 1.0F, 3e-05F}));
  EXPECT_THROW(parse_id_array("1,2"), std::invalid_argument);
  EXPECT_THROW(parse_id_array("{1,,2}"), std::invalid_argument);
  EXPECT_THROW(parse_id_array("{1,x}"), std::invalid_argument);
}

#include "search/spelling.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace chrysopedia::search {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Spelling, AGentleSlipIsMendedInAWordOfAnyLength) {
  const auto swapped = spelling_neighbours("masetring");
  ASSERT_TRUE(swapped);
  EXPECT_TRUE(contains(swapped->gentle, "master"));
  EXPECT_TRUE(contains(spelling_neighbours("reverbb")->gentle, "reverb"));
  EXPECT_TRUE(contains(spelling_neighbours("paralel")->gentle, "parallel"));
  // Mended as typed, then stemmed: "desing" itself stems to "des".
  EXPECT_TRUE(contains(spelling_neighbours("desing")->gentle, "design"));
  EXPECT_TRUE(contains(spelling_neighbours("Sned")->gentle, "send"));
}

TEST(Spelling, OnlyALongWordIsMendedByALetterDroppedAddedOrReplaced) {
  const auto long_word = spelling_neighbours("releese");
  ASSERT_TRUE(long_word);
  EXPECT_TRUE(contains(long_word->wider, "releas"));
  EXPECT_TRUE(contains(spelling_neighbours("unision")->wider, "unison"));
  // A letter left out or replaced where the slip changes the stem: the
  // stem of "comprssion" is all of it, one letter from no lexeme.
  EXPECT_TRUE(contains(spelling_neighbours("comprssion")->wider, "compress"));
  EXPECT_TRUE(contains(spelling_neighbours("compresdion")->wider, "compress"));
  // As it ends a question, or in brackets.
  EXPECT_TRUE(contains(spelling_neighbours("comprssion?")->wider, "compress"));
  EXPECT_TRUE(contains(spelling_neighbours("(masetring)")->gentle, "master"));
  // A short real word has real neighbours: none is offered.
  for (const char* word : {"night", "faire", "stock", "maxed"}) {
    const auto near = spelling_neighbours(word);
    ASSERT_TRUE(near) << word;
    EXPECT_TRUE(near->wider.empty()) << word;
  }
  EXPECT_FALSE(contains(spelling_neighbours("night")->gentle, "right"));
  // Unless asked for: a question with no word the corpus holds.
  EXPECT_TRUE(contains(spelling_neighbours("snre", true)->wider, "snare"));
  EXPECT_TRUE(contains(spelling_neighbours("maser", true)->wider, "master"));
  // Or, when not wanted, no wider slips at all (the gentle ones still).
  const auto gentle_only = spelling_neighbours("comprssion", false, false);
  EXPECT_TRUE(gentle_only->wider.empty());
  EXPECT_FALSE(gentle_only->gentle.empty());
}

TEST(Spelling, WordsNotWorthMendingAreLeftAlone) {
  for (const char* word : {"the", "mix", "14k", "café", "pre-delay", "don't", "with"}) {
    EXPECT_FALSE(spelling_neighbours(word)) << word;
  }
}

TEST(Spelling, TheNeighbourOnTheMostDocumentsWinsAsAWordThatStemsToIt) {
  const ChampionList noise{"nois", {1, 2, 3}, {1, 1, 1}};
  const ChampionList nose{"nose", {4}, {1}};
  const ChampionList nothing{"noir", {}, {}};
  const auto chosen = choose_spelling({&nose, &noise, &nothing});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->word, "noise");  // "nois" is no word; "noise" stems to it
  EXPECT_EQ(chosen->list, &noise);
  EXPECT_FALSE(choose_spelling({&nothing}));
  EXPECT_FALSE(choose_spelling({}));
}

}  // namespace
}  // namespace chrysopedia::search

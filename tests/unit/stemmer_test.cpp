// The in-process stemmer: what it takes on itself and what it leaves to
// Postgres. (That it stems as Postgres does is lexicon_pgtest's.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "search/stemmer.hpp"

using chrysopedia::search::english_lexemes;
using Lexemes = std::vector<std::string>;

TEST(Stemmer, StemsWordsAsSnowballsEnglishDoes) {
  EXPECT_EQ(english_lexemes("kicks"), Lexemes{"kick"});
  EXPECT_EQ(english_lexemes("sidechaining"), Lexemes{"sidechain"});
  EXPECT_EQ(english_lexemes("Compressors"), Lexemes{"compressor"}) << "lower-cased first";
}

TEST(Stemmer, DropsStopWordsAndRepeatsAndSortsAPhrase) {
  EXPECT_EQ(english_lexemes("the"), Lexemes{});
  EXPECT_EQ(english_lexemes(""), Lexemes{});
  EXPECT_EQ(english_lexemes("kick and the kicks  bass"), (Lexemes{"bass", "kick"}));
}

TEST(Stemmer, LeavesToPostgresWhatItsParserReadsOtherwise) {
  for (const char* text :
       {"sub-bass", "808", "don't", "tr\xc3\xa8s", "kick\tbass", "lo_fi", "c++"}) {
    EXPECT_EQ(english_lexemes(text), std::nullopt) << text;
  }
  EXPECT_EQ(english_lexemes(std::string(65, 'a')), std::nullopt) << "longer than any word";
  EXPECT_NE(english_lexemes(std::string(64, 'a')), std::nullopt);
}

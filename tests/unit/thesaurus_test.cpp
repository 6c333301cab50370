#include <gtest/gtest.h>

#include "search/stop_words.hpp"
#include "search/thesaurus.hpp"

using chrysopedia::search::normalise_word;
using chrysopedia::search::Thesaurus;
using Groups = std::vector<std::vector<std::string>>;

namespace {

bool has(const std::vector<std::string>& group, const std::string& alt) {
  return std::find(group.begin(), group.end(), alt) != group.end();
}

}  // namespace

TEST(Thesaurus, TheBuiltInOneLoadsWhole) {
  EXPECT_GE(Thesaurus::builtin().size(), 150u);
}

TEST(Thesaurus, SynonymsStandForEachOtherBothWays) {
  const Thesaurus t(
      R"({"class": "synonym", "same": ["sidechain", "ducking", "keyed compression"]})");
  const auto a = t.expand({"ducking", "bass"});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].front(), "ducking") << "what the user wrote comes first";
  EXPECT_TRUE(has(a[0], "sidechain"));
  EXPECT_TRUE(has(a[0], "keyed compression"));
  EXPECT_EQ(a[1], std::vector<std::string>{"bass"});
  EXPECT_TRUE(has(t.expand({"Sidechain?"})[0], "ducking")) << "case and punctuation ignored";
  // A phrase of the thesaurus spread over the query's words.
  EXPECT_TRUE(has(t.expand({"keyed", "compression", "on", "bass"})[0], "sidechain"));
}

TEST(Thesaurus, ALayDescriptionAddsThePagesTermsOneWay) {
  const Thesaurus t(R"({"class": "lay", "when": ["pumping", "pumps"], "add": ["sidechain"]})");
  EXPECT_TRUE(has(t.expand({"pumps"})[0], "sidechain"));
  EXPECT_EQ(t.expand({"sidechain"})[0], std::vector<std::string>{"sidechain"});
}

// Session 6's lay entries, in the built-in thesaurus: distance, finishing,
// a phone's speaker, as people say them.
TEST(Thesaurus, TheBuiltInOneKnowsLayWordsForDepthFinishingAndPhones) {
  const auto& t = Thesaurus::builtin();
  const auto joined = [](const std::vector<std::vector<std::string>>& groups) {
    std::vector<std::string> all;
    for (const auto& g : groups) all.insert(all.end(), g.begin(), g.end());
    return all;
  };
  EXPECT_TRUE(has(joined(t.expand({"further", "away"})), "depth"));
  EXPECT_TRUE(has(joined(t.expand({"complete", "tracks"})), "finishing"));
  EXPECT_TRUE(has(joined(t.expand({"on", "my", "phone"})), "small speakers"));
}

TEST(Thesaurus, AProducersWordInGermanSpanishOrFrenchAddsTheEnglishTerm) {
  const Thesaurus t(
      "{\"class\": \"de\", \"when\": [\"übergang\"], \"add\": [\"transition\"]}\n"
      "{\"class\": \"es\", \"when\": [\"voz\"], \"add\": [\"vocal\"]}\n"
      "{\"class\": \"fr\", \"when\": [\"bruit blanc\"], \"add\": [\"white noise\"]}\n");
  EXPECT_TRUE(has(t.expand({"Übergang"})[0], "transition")) << "upper-case umlaut";
  EXPECT_TRUE(has(t.expand({"¿voz?"})[0], "vocal"));
  EXPECT_TRUE(has(t.expand({"du", "bruit", "blanc"})[1], "white noise"));
  for (const auto& cls : {"de", "es", "fr", "lay", "synonym"}) {
    EXPECT_NO_THROW(Thesaurus(std::string("{\"class\": \"") + cls +
                              "\", \"same\": [\"a\"], \"when\": [\"a\"], \"add\": [\"b\"]}"))
        << cls;
  }
}

TEST(Thesaurus, ExpansionsAreBounded) {
  std::string many = R"({"class": "synonym", "same": ["a")";
  for (int i = 0; i < 50; ++i) many += ", \"w" + std::to_string(i) + "\"";
  const Thesaurus t(many + "]}");
  EXPECT_EQ(t.expand({"a"}, 8)[0].size(), 8u);
}

TEST(Thesaurus, ABadLineIsNamed) {
  try {
    Thesaurus("{\"class\": \"synonym\", \"same\": [\"a\"]}\n{\"class\": \"klingon\"}");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(normalise_word("«Mischen»"), "mischen");
  EXPECT_EQ(normalise_word("ÉGALISEUR,"), "égaliseur");
}

TEST(StopWords, ArePostgresEnglishList) {
  using chrysopedia::search::is_stop_word;
  for (const char* w : {"the", "my", "how", "i", "should", "don", "what", "it"}) {
    EXPECT_TRUE(is_stop_word(w)) << w;
  }
  for (const char* w : {"bass", "kick", "mix", "808", "The", ""})
    EXPECT_FALSE(is_stop_word(w)) << w;
}

TEST(StopWords, QuestionNoiseIsHowPeopleAskNotWhatTheyAsk) {
  using chrysopedia::search::is_question_noise;
  for (const char* w : {"sound", "actually", "make", "want", "de", "und", "cómo", "pour"}) {
    EXPECT_TRUE(is_question_noise(w)) << w;
  }
  for (const char* w : {"bass", "mix", "design", "loud", "808", "snare"}) {
    EXPECT_FALSE(is_question_noise(w)) << w;
  }
}

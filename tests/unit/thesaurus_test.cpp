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

// A question's words are looked up only as far as some phrase goes on:
// the starts of longer phrases are marked, with or without an entry of
// their own, and the longest match still comes first.
TEST(Thesaurus, PhrasesAreFoundThroughStartsThatAreNoEntryAndStartsThatAre) {
  const Thesaurus t(R"({"class": "lay", "when": ["muddy low end"], "add": ["high pass"]})"
                    "\n"
                    R"({"class": "lay", "when": ["muddy"], "add": ["eq"]})"
                    "\n"
                    R"({"class": "lay", "when": ["too much low end rumble"], "add": ["sub"]})");
  const auto muddy = t.expand({"my", "muddy", "low", "end"});
  EXPECT_EQ(muddy[1], (std::vector<std::string>{"muddy", "high pass", "eq"}));
  EXPECT_EQ(t.expand({"muddy", "low"})[0], (std::vector<std::string>{"muddy", "eq"}));
  EXPECT_TRUE(has(t.expand({"too", "much", "low", "end", "rumble"})[0], "sub"));
  EXPECT_EQ(t.expand({"too", "much", "low", "end"})[0], std::vector<std::string>{"too"});
  EXPECT_EQ(t.expand({"much", "low", "end", "rumble"})[0], std::vector<std::string>{"much"});
}

TEST(Thesaurus, ALayDescriptionAddsThePagesTermsOneWay) {
  const Thesaurus t(R"({"class": "lay", "when": ["pumping", "pumps"], "add": ["sidechain"]})");
  EXPECT_TRUE(has(t.expand({"pumps"})[0], "sidechain"));
  EXPECT_EQ(t.expand({"sidechain"})[0], std::vector<std::string>{"sidechain"});
}

// Session 18: an English entry meets its words whatever their ending
// ("whooshing" for "whoosh"); another language's words are met as written,
// or English words would stem into them ("grave" into the Portuguese
// "graves").
TEST(Thesaurus, EnglishEntriesMatchAnyEndingOtherLanguagesTheWordAsWritten) {
  const Thesaurus t(R"({"class": "lay", "when": ["whoosh"], "add": ["riser"]})"
                    "\n"
                    R"({"class": "synonym", "same": ["duck", "sidechain"]})"
                    "\n"
                    R"({"class": "pt", "when": ["graves"], "add": ["bass"]})");
  EXPECT_TRUE(has(t.expand({"whooshing"})[0], "riser"));
  EXPECT_TRUE(has(t.expand({"Whooshes"})[0], "riser"));
  EXPECT_TRUE(has(t.expand({"ducking"})[0], "sidechain"));
  EXPECT_TRUE(has(t.expand({"sidechained"})[0], "duck"));
  EXPECT_TRUE(has(t.expand({"graves"})[0], "bass"));
  EXPECT_EQ(t.expand({"grave"})[0], std::vector<std::string>{"grave"});
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

TEST(Thesaurus, AProducersWordInAnotherLanguageAddsTheEnglishTerm) {
  const Thesaurus t(
      "{\"class\": \"de\", \"when\": [\"übergang\"], \"add\": [\"transition\"]}\n"
      "{\"class\": \"es\", \"when\": [\"voz\"], \"add\": [\"vocal\"]}\n"
      "{\"class\": \"fr\", \"when\": [\"bruit blanc\"], \"add\": [\"white noise\"]}\n");
  EXPECT_TRUE(has(t.expand({"Übergang"})[0], "transition")) << "upper-case umlaut";
  EXPECT_TRUE(has(t.expand({"¿voz?"})[0], "vocal"));
  EXPECT_TRUE(has(t.expand({"du", "bruit", "blanc"})[1], "white noise"));
  for (const auto& cls : {"de", "es", "fr", "it", "nl", "pl", "pt", "lay", "synonym"}) {
    EXPECT_NO_THROW(Thesaurus(std::string("{\"class\": \"") + cls +
                              "\", \"same\": [\"a\"], \"when\": [\"a\"], \"add\": [\"b\"]}"))
        << cls;
  }
}

// The built-in thesaurus, as the search uses it (at most 5 alternatives a
// term): every alternative a query's terms get, all groups together.
namespace {

std::vector<std::string> builtin_alternatives(const std::vector<std::string>& terms) {
  std::vector<std::string> all;
  for (const auto& g : Thesaurus::builtin().expand(terms, 5))
    all.insert(all.end(), g.begin(), g.end());
  return all;
}

}  // namespace

TEST(Thesaurus, TheBuiltInOneKnowsItalianProducersWords) {
  EXPECT_TRUE(has(builtin_alternatives({"riverbero"}), "reverb"));
  EXPECT_TRUE(has(builtin_alternatives({"compressione", "parallela"}), "compression"));
  EXPECT_TRUE(has(builtin_alternatives({"cassa", "e", "basso"}), "kick"));
  EXPECT_TRUE(has(builtin_alternatives({"missaggio"}), "mixing"));
  EXPECT_TRUE(has(builtin_alternatives({"più", "forte"}), "loudness")) << "a phrase";
}

TEST(Thesaurus, TheBuiltInOneKnowsPortugueseProducersWords) {
  EXPECT_TRUE(has(builtin_alternatives({"compressão"}), "compression"));
  EXPECT_TRUE(has(builtin_alternatives({"compressao"}), "compression")) << "without the accent";
  EXPECT_TRUE(has(builtin_alternatives({"bumbo"}), "kick"));
  EXPECT_TRUE(has(builtin_alternatives({"Mixagem"}), "mixing")) << "upper case";
  EXPECT_TRUE(has(builtin_alternatives({"ruído", "branco"}), "white noise"));
}

TEST(Thesaurus, TheBuiltInOneKnowsDutchProducersWords) {
  EXPECT_TRUE(has(builtin_alternatives({"galm"}), "reverb"));
  EXPECT_TRUE(has(builtin_alternatives({"zang"}), "vocal"));
  EXPECT_TRUE(has(builtin_alternatives({"baslijn"}), "bassline"));
  EXPECT_TRUE(has(builtin_alternatives({"stereobreedte"}), "stereo width"));
}

TEST(Thesaurus, TheBuiltInOneKnowsPolishProducersWords) {
  EXPECT_TRUE(has(builtin_alternatives({"pogłos"}), "reverb"));
  EXPECT_TRUE(has(builtin_alternatives({"poglos"}), "reverb")) << "without the diacritic";
  EXPECT_TRUE(has(builtin_alternatives({"kompresję"}), "compression")) << "an inflected form";
  EXPECT_TRUE(has(builtin_alternatives({"stopa"}), "kick"));
  EXPECT_TRUE(has(builtin_alternatives({"wokalu"}), "vocal"));
}

TEST(Thesaurus, TheBuiltInOneKnowsSwedishProducersWords) {
  EXPECT_TRUE(has(builtin_alternatives({"efterklang"}), "reverb"));
  EXPECT_TRUE(has(builtin_alternatives({"sång"}), "vocal"));
  EXPECT_TRUE(has(builtin_alternatives({"sangen"}), "vocal")) << "without the ring";
  EXPECT_TRUE(has(builtin_alternatives({"bastrumman"}), "kick")) << "an inflected form";
  EXPECT_TRUE(has(builtin_alternatives({"grötig"}), "muddy"));
}

TEST(Thesaurus, TheBuiltInOneKnowsJapaneseProducersWordsInRomaji) {
  EXPECT_TRUE(has(builtin_alternatives({"ribaabu"}), "reverb"));
  EXPECT_TRUE(has(builtin_alternatives({"boukaru"}), "vocal"));
  EXPECT_TRUE(has(builtin_alternatives({"bokaru"}), "vocal")) << "the long vowel written short";
  EXPECT_TRUE(has(builtin_alternatives({"ikoraizaa"}), "eq"));
  EXPECT_TRUE(has(builtin_alternatives({"pitchi", "hosei"}), "pitch correction"));
}

TEST(Thesaurus, TheBuiltInOneKnowsMoreGermanSpanishAndFrenchWords) {
  EXPECT_TRUE(has(builtin_alternatives({"summenkompression"}), "glue"));
  EXPECT_TRUE(has(builtin_alternatives({"tiefpass"}), "low-pass"));
  EXPECT_TRUE(has(builtin_alternatives({"compresion"}), "compression")) << "without the accent";
  EXPECT_TRUE(has(builtin_alternatives({"paneo"}), "panning"));
  EXPECT_TRUE(has(builtin_alternatives({"réverbe"}), "reverb"));
  EXPECT_TRUE(has(builtin_alternatives({"passe-haut"}), "high-pass"));
}

TEST(Thesaurus, TheBuiltInOneKnowsProducersSlang) {
  EXPECT_TRUE(has(builtin_alternatives({"ny", "compression"}), "parallel compression"));
  EXPECT_TRUE(has(builtin_alternatives({"pro-q"}), "eq"));
  EXPECT_TRUE(has(builtin_alternatives({"2", "bus"}), "mix bus"));
  EXPECT_TRUE(has(builtin_alternatives({"busses"}), "bus")) << "a plural the stemmer keeps apart";
  EXPECT_TRUE(has(builtin_alternatives({"lfos"}), "lfo"));
  EXPECT_TRUE(has(builtin_alternatives({"hpf"}), "high-pass"));
  EXPECT_TRUE(has(builtin_alternatives({"center"}), "centre")) << "American spelling";
  EXPECT_TRUE(has(builtin_alternatives({"decapitator"}), "saturation"));
  // Synonyms stand for each other: the page's word brings the slang back.
  EXPECT_TRUE(has(builtin_alternatives({"parallel", "compression"}), "new york compression"));
}

TEST(Thesaurus, TheBuiltInOneKnowsHowBeginnersDescribeIt) {
  EXPECT_TRUE(has(builtin_alternatives({"stereo", "bass"}), "mono"));
  EXPECT_TRUE(has(builtin_alternatives({"vocal", "gets", "lost"}), "masking"));
  EXPECT_TRUE(has(builtin_alternatives({"robotic", "vocals"}), "pitch correction"));
  EXPECT_TRUE(has(builtin_alternatives({"tinny"}), "low end"));
  EXPECT_TRUE(has(builtin_alternatives({"drop", "falls", "flat"}), "contrast"));
  EXPECT_TRUE(has(builtin_alternatives({"ears", "ringing"}), "ear fatigue"));
}

TEST(Thesaurus, EnglishWordsAreNotReadAsAnotherLanguage) {
  // Words that are foreign producers' words too, but English first: they
  // must not pull in what the other language means by them.
  EXPECT_FALSE(has(builtin_alternatives({"handy", "trick"}), "phone"));
  EXPECT_FALSE(has(builtin_alternatives({"portable", "recorder"}), "small speakers"));
  EXPECT_FALSE(has(builtin_alternatives({"micro", "timing"}), "mic"));
  EXPECT_FALSE(has(builtin_alternatives({"retard"}), "delay"));
  EXPECT_FALSE(has(builtin_alternatives({"stem"}), "vocal")) << "Dutch for voice";
  for (const char* w : {"tempo", "piano", "grave", "large", "son", "fort", "basso", "per"})
    EXPECT_EQ(Thesaurus::builtin().expand({w})[0], std::vector<std::string>{w}) << w;
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
  // Italian, Portuguese, Dutch and Polish questions' function words.
  for (const char* w : {"come", "della", "perché", "como", "você", "isso", "hoe", "het", "een",
                        "jak", "się", "czy", "dla"}) {
    EXPECT_TRUE(is_question_noise(w)) << w;
  }
  for (const char* w : {"bass", "mix", "design", "loud", "808", "snare"}) {
    EXPECT_FALSE(is_question_noise(w)) << w;
  }
  // Their English look-alikes (and music terms) are what a question asks.
  for (const char* w : {"per", "van", "op", "met", "dat", "ai", "a", "e", "o", "fare", "dove",
                        "stem", "tempo", "piano", "jest", "ale", "pod", "ten"}) {
    EXPECT_FALSE(is_question_noise(w)) << w;
  }
}

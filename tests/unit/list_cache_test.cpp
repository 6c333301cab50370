// The champion lists kept between searches: bounded in bytes with the
// least recently used out first, and of one generation at a time.
#include <gtest/gtest.h>

#include "search/list_cache.hpp"

using namespace chrysopedia::search;

namespace {

WordLists lists_of(const std::string& lexeme, std::size_t docs) {
  auto list = std::make_shared<const ChampionList>(
      ChampionList{lexeme, std::vector<long long>(docs, 1), std::vector<float>(docs, 0.5F)});
  return {list};
}

}  // namespace

TEST(ListCache, KeepsWhatWasReadAndSaysWhatIsMissing) {
  ListCache cache(1 << 20);
  cache.store(3, {{"mixing", lists_of("mix", 10)}, {"the", {}}});
  const auto found = cache.lookup({"mixing", "the", "bass"});
  EXPECT_EQ(found.generation, 3);
  ASSERT_EQ(found.hits.size(), 2u);
  EXPECT_EQ(found.hits.at("mixing").front()->lexeme, "mix");
  EXPECT_TRUE(found.hits.at("the").empty()) << "a word without lists is known too";
  EXPECT_EQ(found.missing, std::vector<std::string>{"bass"});
  EXPECT_EQ(cache.stats().hits, 2u);
  EXPECT_EQ(cache.stats().misses, 1u);
}

TEST(ListCache, ANewerGenerationReplacesEverythingAndAnOlderOneIsNotKept) {
  ListCache cache(1 << 20);
  cache.store(3, {{"mixing", lists_of("mix", 10)}});
  cache.store(4, {{"bass", lists_of("bass", 10)}});
  auto found = cache.lookup({"mixing", "bass"});
  EXPECT_EQ(found.generation, 4);
  EXPECT_EQ(found.missing, std::vector<std::string>{"mixing"});
  cache.store(2, {{"mixing", lists_of("mix", 10)}});
  found = cache.lookup({"mixing"});
  EXPECT_EQ(found.missing, std::vector<std::string>{"mixing"}) << "a lagging reader's lists";
}

TEST(ListCache, StaysWithinItsBytesDroppingTheLeastRecentlyUsed) {
  // Each entry ~1.3 KB (100 documents): room for six.
  ListCache cache(10000);
  for (int i = 0; i < 5; ++i) cache.store(1, {{"w" + std::to_string(i), lists_of("l", 100)}});
  cache.lookup({"w0"});  // used again: now the most recent
  for (int i = 5; i < 10; ++i) cache.store(1, {{"w" + std::to_string(i), lists_of("l", 100)}});
  const auto stats = cache.stats();
  EXPECT_LE(stats.bytes, 10000u);
  EXPECT_GE(stats.words, 5u);
  const auto found = cache.lookup({"w0", "w1", "w9"});
  EXPECT_EQ(found.missing, std::vector<std::string>{"w1"});
}

TEST(ListCache, AnEntryLargerThanTheWholeCacheIsNotKept) {
  ListCache cache(1000);
  cache.store(1, {{"huge", lists_of("h", 1000)}});
  EXPECT_EQ(cache.stats().words, 0u);
}

namespace {

std::shared_ptr<const Lexicon> lexicon_of(long long generation,
                                          const std::vector<std::string>& lexemes) {
  auto lexicon = std::make_shared<Lexicon>();
  lexicon->generation = generation;
  for (const auto& lexeme : lexemes) lexicon->lists.emplace(lexeme, lists_of(lexeme, 5).front());
  return lexicon;
}

}  // namespace

TEST(ListCache, WithTheLexiconAWordNeverAskedIsFoundByItsStem) {
  ListCache cache(1 << 20);
  EXPECT_TRUE(cache.lexicon_missing());
  cache.set_lexicon(lexicon_of(5, {"compressor", "sidechain", "kick"}));
  EXPECT_FALSE(cache.lexicon_missing());
  const auto found = cache.lookup({"compressors", "sidechaining", "the", "zebrafoo", "sub-bass"});
  EXPECT_EQ(found.generation, 5);
  ASSERT_EQ(found.hits.size(), 4u);
  EXPECT_EQ(found.hits.at("compressors").front()->lexeme, "compressor");
  EXPECT_EQ(found.hits.at("sidechaining").front()->lexeme, "sidechain");
  EXPECT_TRUE(found.hits.at("the").empty()) << "a stop word: no list";
  // A word the corpus lacks: its lexeme, with an empty list (a phrase with
  // it can match nothing).
  ASSERT_EQ(found.hits.at("zebrafoo").size(), 1u);
  EXPECT_TRUE(found.hits.at("zebrafoo").front()->doc_ids.empty());
  EXPECT_EQ(found.missing, std::vector<std::string>{"sub-bass"}) << "Postgres's parse decides";
  EXPECT_EQ(cache.stats().lexicon_hits, 4u);
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().lexicon_lists, 3u);
}

TEST(ListCache, TheLexiconIsOfOneGenerationWithTheWords) {
  ListCache cache(1 << 20);
  cache.store(5, {{"bass", lists_of("bass", 10)}});
  cache.set_lexicon(lexicon_of(4, {"kick"}));
  EXPECT_TRUE(cache.lexicon_missing()) << "older than the lists read: not kept";
  EXPECT_EQ(cache.lookup({"kicks"}).missing, std::vector<std::string>{"kicks"});

  cache.set_lexicon(lexicon_of(6, {"kick"}));
  auto found = cache.lookup({"bass", "kicks"});
  EXPECT_EQ(found.generation, 6);
  ASSERT_EQ(found.hits.at("bass").size(), 1u);
  EXPECT_TRUE(found.hits.at("bass").front()->doc_ids.empty())
      << "the words of 5 went with the newer lexicon";
  EXPECT_EQ(found.hits.at("kicks").front()->lexeme, "kick");

  cache.store(7, {{"bass", lists_of("bass", 10)}});
  EXPECT_TRUE(cache.lexicon_missing()) << "lists read at a newer generation: the lexicon is old";
  found = cache.lookup({"kicks"});
  EXPECT_EQ(found.missing, std::vector<std::string>{"kicks"});
}

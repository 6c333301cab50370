#pragma once

#include <algorithm>
#include <array>
#include <string_view>

namespace chrysopedia::search {

/// Postgres's English stop words (tsearch_data/english.stop, sorted): the
/// words to_tsvector('english', ...) drops. A query's terms that are one
/// of them match nothing, so they are not sent: a long question is half
/// stop words, and each term costs the search a tsquery to build.
inline constexpr auto kEnglishStopWords = [] {
  std::array<std::string_view, 127> words = {
      "i",       "me",      "my",      "myself",   "we",         "our",    "ours",    "ourselves",
      "you",     "your",    "yours",   "yourself", "yourselves", "he",     "him",     "his",
      "himself", "she",     "her",     "hers",     "herself",    "it",     "its",     "itself",
      "they",    "them",    "their",   "theirs",   "themselves", "what",   "which",   "who",
      "whom",    "this",    "that",    "these",    "those",      "am",     "is",      "are",
      "was",     "were",    "be",      "been",     "being",      "have",   "has",     "had",
      "having",  "do",      "does",    "did",      "doing",      "a",      "an",      "the",
      "and",     "but",     "if",      "or",       "because",    "as",     "until",   "while",
      "of",      "at",      "by",      "for",      "with",       "about",  "against", "between",
      "into",    "through", "during",  "before",   "after",      "above",  "below",   "to",
      "from",    "up",      "down",    "in",       "out",        "on",     "off",     "over",
      "under",   "again",   "further", "then",     "once",       "here",   "there",   "when",
      "where",   "why",     "how",     "all",      "any",        "both",   "each",    "few",
      "more",    "most",    "other",   "some",     "such",       "no",     "nor",     "not",
      "only",    "own",     "same",    "so",       "than",       "too",    "very",    "s",
      "t",       "can",     "will",    "just",     "don",        "should", "now",
  };
  std::sort(words.begin(), words.end());
  return words;
}();

/// `word` (lower case, no punctuation) is an English stop word.
inline bool is_stop_word(std::string_view word) {
  return std::binary_search(kEnglishStopWords.begin(), kEnglishStopWords.end(), word);
}

}  // namespace chrysopedia::search

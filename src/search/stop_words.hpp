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

/// Words a question is full of that say nothing of what it asks: how
/// people ask in this domain ("sound", "make", "want", "actually"), and the
/// function words of German, Spanish and French questions (which would
/// match pieces of English words: "de" is half of "de-essing"). Sorted.
inline constexpr auto kQuestionNoise = [] {
  std::array<std::string_view, 103> words = {
      // English: how people ask
      "actually", "always", "any", "anything", "bit", "even", "everything", "figure", "get", "gets",
      "getting", "good", "help", "idea", "ideas", "just", "keep", "kind", "kinda", "know", "like",
      "lot", "lots", "make", "makes", "making", "need", "please", "really", "seem", "seems",
      "something", "sound", "sounds", "stuff", "sure", "thanks", "thing", "things", "tips", "try",
      "trying", "use", "using", "want", "way", "whole",
      // German
      "auf", "das", "dass", "den", "der", "die", "ein", "eine", "einen", "für", "ich", "im", "ist",
      "mein", "meine", "mit", "soll", "und", "von", "wie", "zu",
      // Spanish
      "cómo", "con", "del", "el", "en", "es", "la", "las", "los", "mi", "mis", "para", "por", "que",
      "qué", "se", "un", "una",
      // French
      "au", "avec", "ce", "comment", "de", "des", "du", "est", "et", "je", "le", "les", "ma", "mes",
      "mon", "pour", "une"};
  std::sort(words.begin(), words.end());
  return words;
}();

/// `word` (lower case, no punctuation) is one of kQuestionNoise.
inline bool is_question_noise(std::string_view word) {
  return std::binary_search(kQuestionNoise.begin(), kQuestionNoise.end(), word);
}

/// `word` (lower case, no punctuation) is an English stop word.
inline bool is_stop_word(std::string_view word) {
  return std::binary_search(kEnglishStopWords.begin(), kEnglishStopWords.end(), word);
}

}  // namespace chrysopedia::search

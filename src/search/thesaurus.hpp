#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chrysopedia::search {

/// The music-production thesaurus (data/search-thesaurus.jsonl, built into
/// the binary): words a question may use for what the pages call otherwise.
/// Each entry is one of
///   {"class": "synonym", "same": [...]}  every phrase stands for every other
///   {"class": "lay"|"de"|"es"|"fr"|"it"|"nl"|"pl"|"pt", "when": [...], "add": [...]}
///                                       a lay description, or a producer's
///                                       word in another language, adds the
///                                       pages' terms (one way only)
/// Phrases are lower case; matching ignores case, the punctuation around
/// a word, and for synonyms and lay descriptions its English inflection
/// ("whooshing" meets "whoosh").
class Thesaurus {
 public:
  /// Parses the JSON Lines; throws std::invalid_argument naming the line.
  explicit Thesaurus(std::string_view jsonl);

  /// The built-in thesaurus.
  static const Thesaurus& builtin();

  /// For each of the query's terms, in order: the term, then what the
  /// thesaurus adds for the phrases starting at it (the longest match of
  /// up to 3 terms first), each once, at most `max_per_term` in all.
  std::vector<std::vector<std::string>> expand(const std::vector<std::string>& terms,
                                               std::size_t max_per_term = 8) const;

  std::size_t size() const { return entries_; }

  /// Every phrase it names (what a question may say and what it adds),
  /// each once, in no order.
  std::vector<std::string> phrases() const;

 private:
  // What a phrase adds (nothing when it is only the start of longer ones),
  // and whether longer phrases start with it.
  struct Entry {
    std::vector<std::string> adds;
    bool longer = false;
  };
  using Phrases = std::unordered_map<std::string, Entry>;
  static void add_phrase(Phrases& phrases, const std::vector<std::string>& words,
                         const std::string& value);

  // What an English entry adds, by the stems of what a question says; what
  // another language's adds, by its words as written.
  Phrases by_stem_;
  Phrases by_word_;
  std::unordered_set<std::string> phrases_;  // as written
  std::size_t longest_ = 1;                  // words in the longest phrase
  std::size_t entries_ = 0;
};

/// Lower case (ASCII and the Latin-1 letters: Ü, É, Ñ, ...) without the
/// punctuation around the word: how query words are matched.
std::string normalise_word(std::string_view word);

}  // namespace chrysopedia::search

#include "search/stemmer.hpp"

#include <algorithm>
#include <memory>

#include <libstemmer.h>

#include "common/ascii.hpp"
#include "search/stop_words.hpp"

namespace chrysopedia::search {

namespace {

// Past this, Postgres's parser and dictionary treat a word specially
// (1,000 bytes: not stemmed; 2,047: not indexed); no music word is near it.
constexpr std::size_t kMaxWord = 64;

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

// A stemmer keeps its state between calls: one per thread (the search
// pool's few threads).
sb_stemmer* thread_stemmer() {
  thread_local std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer(
      sb_stemmer_new("english", "UTF_8"));
  return stemmer.get();
}

}  // namespace

std::optional<std::vector<std::string>> english_lexemes(std::string_view text) {
  sb_stemmer* stemmer = thread_stemmer();
  if (!stemmer) return std::nullopt;  // out of memory: Postgres decides
  std::vector<std::string> lexemes;
  std::string word;
  bool stemmed = true;
  const auto take = [&] {
    if (word.empty()) return;
    if (!is_stop_word(word)) {
      const sb_symbol* stem = sb_stemmer_stem(
          stemmer, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
      if (!stem)
        stemmed = false;
      else
        lexemes.emplace_back(reinterpret_cast<const char*>(stem),
                             static_cast<std::size_t>(sb_stemmer_length(stemmer)));
    }
    word.clear();
  };
  for (const char c : text) {
    if (c == ' ') {
      take();
    } else if (common::is_ascii_letter(c) && word.size() < kMaxWord) {
      word += static_cast<char>(c | 0x20);  // ASCII lower case
    } else {
      return std::nullopt;
    }
  }
  take();
  if (!stemmed) return std::nullopt;
  std::sort(lexemes.begin(), lexemes.end());
  lexemes.erase(std::unique(lexemes.begin(), lexemes.end()), lexemes.end());
  return lexemes;
}

}  // namespace chrysopedia::search

#include "search/spelling.hpp"

#include <algorithm>
#include <array>

#include "common/ascii.hpp"
#include "search/stemmer.hpp"
#include "search/thesaurus.hpp"

namespace chrysopedia::search {

namespace {

constexpr std::size_t kShortestWord = 4;
// From this length a slip may also be any letter dropped, added or
// replaced; shorter words have too many real neighbours ("night" is one
// letter from "right", "faire" from "air").
constexpr std::size_t kLongWord = 7;

// Endings tried after a lexeme to find a word that stems to it ("nois" →
// "noise", "frequenc" → "frequency").
constexpr std::array<std::string_view, 10> kEndings = {"",   "e",   "s",  "y",   "ing",
                                                       "ed", "ion", "al", "ate", "er"};

bool plain_letters(std::string_view word) {
  return std::all_of(word.begin(), word.end(), common::is_ascii_letter);
}

}  // namespace

std::optional<SpellingNeighbours> spelling_neighbours(std::string_view typed, bool short_words_too,
                                                      bool wider) {
  // Lower case, without the punctuation it was typed with ("comprssion?",
  // "(sidechian)"), as the thesaurus matches a word.
  const std::string word = normalise_word(typed);
  if (word.size() < kShortestWord || !plain_letters(word)) return std::nullopt;
  const auto stems = english_lexemes(word);
  if (!stems || stems->size() != 1) return std::nullopt;  // a stop word
  const std::string& stem = stems->front();
  SpellingNeighbours out;
  // As typed, stemmed: what mends it would not survive stemming the slip
  // ("desing" stems to "des").
  const auto add_word = [&](std::vector<std::string>& to, const std::string& candidate) {
    const auto lexemes = english_lexemes(candidate);
    if (lexemes && lexemes->size() == 1 && lexemes->front() != stem) to.push_back(lexemes->front());
  };
  std::string edit;
  for (std::size_t i = 0; i + 1 < word.size(); ++i) {
    if (word[i] == word[i + 1]) {
      add_word(out.gentle, word.substr(0, i) + word.substr(i + 1));  // "reverbb"
      continue;
    }
    edit = word;
    std::swap(edit[i], edit[i + 1]);
    add_word(out.gentle, edit);  // "masetring"
  }
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (i + 1 < word.size() && word[i] == word[i + 1]) continue;
    add_word(out.gentle, word.substr(0, i + 1) + word.substr(i));  // "paralel"
  }
  if (wider && (word.size() >= kLongWord || short_words_too)) {
    // Letters added or replaced as typed, then stemmed: the slip may have
    // changed the stem ("ion" is only an ending when enough of the word
    // stands before it: "comprssion" stems to itself).
    for (std::size_t i = 0; i <= word.size(); ++i) {
      for (char c = 'a'; c <= 'z'; ++c) {
        edit = word;
        edit.insert(i, 1, c);
        add_word(out.wider, edit);  // "comprssion"
      }
    }
    for (std::size_t i = 0; i < word.size(); ++i) {
      add_word(out.wider, word.substr(0, i) + word.substr(i + 1));  // "unision"
      for (char c = 'a'; c <= 'z'; ++c) {
        if (word[i] == c) continue;
        edit = word;
        edit[i] = c;
        add_word(out.wider, edit);  // "compresdion"
      }
    }
    // And on the stem, which needs no stemming.
    for (std::size_t i = 0; i <= stem.size(); ++i) {
      for (char c = 'a'; c <= 'z'; ++c) {
        edit = stem;
        edit.insert(i, 1, c);
        out.wider.push_back(edit);
        if (i < stem.size() && stem[i] != c) {
          edit = stem;
          edit[i] = c;
          out.wider.push_back(edit);
        }
      }
    }
  }
  for (auto* tier : {&out.gentle, &out.wider}) {
    std::sort(tier->begin(), tier->end());
    tier->erase(std::unique(tier->begin(), tier->end()), tier->end());
    std::erase_if(*tier, [](const std::string& s) { return s.size() < 3; });
  }
  return out;
}

std::optional<Spelling> choose_spelling(const std::vector<const ChampionList*>& held) {
  std::vector<const ChampionList*> order;
  for (const auto* list : held) {
    if (list && !list->doc_ids.empty()) order.push_back(list);
  }
  std::sort(order.begin(), order.end(), [](const ChampionList* a, const ChampionList* b) {
    if (a->doc_ids.size() != b->doc_ids.size()) return a->doc_ids.size() > b->doc_ids.size();
    return a->lexeme < b->lexeme;
  });
  for (const auto* list : order) {
    for (const auto ending : kEndings) {
      std::string word = list->lexeme + std::string(ending);
      const auto back = english_lexemes(word);
      if (back && back->size() == 1 && back->front() == list->lexeme) return Spelling{word, list};
    }
  }
  return std::nullopt;
}

}  // namespace chrysopedia::search

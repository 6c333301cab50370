#include "search/thesaurus.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "search/stemmer.hpp"

namespace chrysopedia::web {
// data/search-thesaurus.jsonl, embedded by cmake/embed_file.cmake.
extern const std::string_view data_search_thesaurus_jsonl;
}  // namespace chrysopedia::web

namespace chrysopedia::search {

namespace {

bool is_edge_punctuation(char c) {
  return std::string_view("?!.,;:\"'()[]{}¿¡«»").find(c) != std::string_view::npos;
}

std::vector<std::string> words_of(std::string_view phrase) {
  std::vector<std::string> out;
  std::istringstream in{std::string(phrase)};
  for (std::string w; in >> w;) {
    auto n = normalise_word(w);
    if (!n.empty()) out.push_back(std::move(n));
  }
  return out;
}

// The languages whose producers' words the thesaurus translates; a class
// outside the list is a typo, refused when the file loads.
bool is_language(const std::string& cls) {
  static constexpr std::string_view kLanguages[] = {"de", "es", "fr", "it", "ja",
                                                    "nl", "pl", "pt", "sv"};
  return std::find(std::begin(kLanguages), std::end(kLanguages), cls) != std::end(kLanguages);
}

// How a word is matched: by its English stem where it has one (so
// "whooshing" meets "whoosh", "disappears" meets "disappear"), as written
// where it has none (a stop word, digits, accents).
std::string match_form(const std::string& word) {
  const auto lexemes = english_lexemes(word);
  return lexemes && lexemes->size() == 1 ? lexemes->front() : word;
}

std::vector<std::string> match_forms(std::vector<std::string> words) {
  for (auto& w : words) w = match_form(w);
  return words;
}

std::string joined(const std::vector<std::string>& words, std::size_t from, std::size_t n) {
  std::string out;
  for (std::size_t i = from; i < from + n; ++i) out += (i == from ? "" : " ") + words[i];
  return out;
}

}  // namespace

std::string normalise_word(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t i = 0; i < word.size(); ++i) {
    const auto c = static_cast<unsigned char>(word[i]);
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c == 0xC3 && i + 1 < word.size()) {
      // U+00C0-U+00DE (but ×) are the upper case of U+00E0-U+00FE.
      auto next = static_cast<unsigned char>(word[i + 1]);
      if (next >= 0x80 && next <= 0x9E && next != 0x97)
        next = static_cast<unsigned char>(next + 0x20);
      out.push_back(static_cast<char>(c));
      out.push_back(static_cast<char>(next));
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  // Punctuation around the word, ASCII and the two-byte ¿ ¡ « ».
  const auto strip_front = [&] {
    for (;;) {
      if (!out.empty() && is_edge_punctuation(out.front()) && (out.front() & 0x80) == 0) {
        out.erase(0, 1);
      } else if (out.size() >= 2 && static_cast<unsigned char>(out[0]) == 0xC2 &&
                 std::string_view("\xBF\xA1\xAB\xBB").find(out[1]) != std::string_view::npos) {
        out.erase(0, 2);
      } else {
        return;
      }
    }
  };
  const auto strip_back = [&] {
    for (;;) {
      if (!out.empty() && is_edge_punctuation(out.back()) && (out.back() & 0x80) == 0) {
        out.pop_back();
      } else if (out.size() >= 2 && static_cast<unsigned char>(out[out.size() - 2]) == 0xC2 &&
                 std::string_view("\xBF\xA1\xAB\xBB").find(out.back()) != std::string_view::npos) {
        out.resize(out.size() - 2);
      } else {
        return;
      }
    }
  };
  strip_front();
  strip_back();
  return out;
}

Thesaurus::Thesaurus(std::string_view jsonl) {
  std::istringstream in{std::string(jsonl)};
  int number = 0;
  // English entries are matched by stem; another language's by the word
  // as written (English stems would read "grave" as the Portuguese
  // "graves", bass).
  const auto add = [this](const std::string& when, const std::string& what, bool english) {
    const auto when_words = words_of(when);
    const auto what_words = words_of(what);
    const auto when_forms = english ? match_forms(when_words) : when_words;
    const auto key = joined(when_forms, 0, when_forms.size());
    const auto value = joined(what_words, 0, what_words.size());
    if (key.empty() || value.empty() ||
        key == joined(english ? match_forms(what_words) : what_words, 0, what_words.size())) {
      return;
    }
    phrases_.insert(joined(when_words, 0, when_words.size()));
    phrases_.insert(value);
    add_phrase(english ? by_stem_ : by_word_, when_forms, value);
    longest_ = std::max(longest_, when_words.size());
  };
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    try {
      const auto entry = nlohmann::json::parse(line);
      const auto cls = entry.at("class").get<std::string>();
      if (cls == "synonym") {
        const auto same = entry.at("same").get<std::vector<std::string>>();
        for (const auto& a : same) {
          for (const auto& b : same) add(a, b, true);
        }
      } else if (cls == "lay" || is_language(cls)) {
        for (const auto& when : entry.at("when").get<std::vector<std::string>>()) {
          for (const auto& what : entry.at("add").get<std::vector<std::string>>()) {
            add(when, what, cls == "lay");
          }
        }
      } else {
        throw std::invalid_argument("unknown class \"" + cls + "\"");
      }
      ++entries_;
    } catch (const std::exception& e) {
      throw std::invalid_argument("thesaurus line " + std::to_string(number) + ": " + e.what());
    }
  }
}

void Thesaurus::add_phrase(Phrases& phrases, const std::vector<std::string>& words,
                           const std::string& value) {
  // Each shorter start of the phrase is marked, so that a question's words
  // are looked up only as far as some phrase goes on (most words start
  // none: one lookup, not one per length up to the longest phrase).
  std::string key;
  for (std::size_t n = 0; n < words.size(); ++n) {
    key += (n == 0 ? "" : " ") + words[n];
    auto& entry = phrases[key];
    if (n + 1 < words.size()) {
      entry.longer = true;
    } else if (std::find(entry.adds.begin(), entry.adds.end(), value) == entry.adds.end()) {
      entry.adds.push_back(value);
    }
  }
}

const Thesaurus& Thesaurus::builtin() {
  static const Thesaurus thesaurus(web::data_search_thesaurus_jsonl);
  return thesaurus;
}

std::vector<std::vector<std::string>> Thesaurus::expand(const std::vector<std::string>& terms,
                                                        std::size_t max_per_term) const {
  std::vector<std::string> words;
  words.reserve(terms.size());
  for (const auto& t : terms) words.push_back(normalise_word(t));
  const auto forms = match_forms(words);
  std::vector<std::vector<std::string>> out;
  out.reserve(terms.size());
  // The phrases starting at each word, built a word at a time (no string
  // made per phrase length) for as long as some phrase goes on: what each
  // map holds for them, longest first.
  std::string stem_key;
  std::string word_key;
  std::vector<std::pair<const std::vector<std::string>*, const std::vector<std::string>*>> found;
  const auto extend = [](const Phrases& phrases, std::string& key, const std::string& word,
                         bool& going) -> const std::vector<std::string>* {
    if (!going) return nullptr;
    if (!key.empty()) key += ' ';
    key += word;
    const auto it = phrases.find(key);
    going = it != phrases.end() && it->second.longer;
    return it == phrases.end() ? nullptr : &it->second.adds;
  };
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const std::size_t longest = std::min(longest_, terms.size() - i);
    found.assign(longest, {nullptr, nullptr});
    stem_key.clear();
    word_key.clear();
    bool stems_go_on = true;
    bool words_go_on = true;
    for (std::size_t n = 0; n < longest && (stems_go_on || words_go_on); ++n) {
      found[n].first = extend(by_stem_, stem_key, forms[i + n], stems_go_on);
      found[n].second = extend(by_word_, word_key, words[i + n], words_go_on);
    }
    std::vector<std::string> group{terms[i]};
    const auto take = [&](const std::vector<std::string>* alts) {
      if (!alts) return;
      for (const auto& alt : *alts) {
        if (group.size() >= max_per_term) break;
        if (std::find(group.begin(), group.end(), alt) == group.end()) group.push_back(alt);
      }
    };
    for (std::size_t n = longest; n-- > 0;) {
      take(found[n].first);
      take(found[n].second);
    }
    out.push_back(std::move(group));
  }
  return out;
}

std::vector<std::string> Thesaurus::phrases() const {
  return {phrases_.begin(), phrases_.end()};
}

}  // namespace chrysopedia::search

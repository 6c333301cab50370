#include "search/candidates.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <unordered_map>

namespace chrysopedia::search {

namespace {

template <typename T>
std::vector<T> parse_array(std::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    throw std::invalid_argument("not an array: " + std::string(text.substr(0, 40)));
  }
  std::vector<T> out;
  text = text.substr(1, text.size() - 2);
  if (text.empty()) return out;
  out.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), ',')) + 1);
  const char* p = text.data();
  const char* const end = p + text.size();
  for (;;) {
    T value{};
    const auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || (next != end && *next != ',')) {
      throw std::invalid_argument("not a number in array: " + std::string(text.substr(0, 40)));
    }
    out.push_back(value);
    if (next == end) return out;
    p = next + 1;
  }
}

}  // namespace

std::vector<long long> parse_id_array(std::string_view text) {
  return parse_array<long long>(text);
}

std::vector<float> parse_real_array(std::string_view text) {
  return parse_array<float>(text);
}

namespace {

// The documents a term can match, with the weight of its best way there;
// `whole` when no list it came from was cut (at the cap or above).
struct TermDocs {
  struct Hit {
    float score = 0;  // the best way's
    int lists = 0;    // the lists it is on, over all the term's ways
  };
  std::unordered_map<long long, Hit> hits;
  bool whole = true;
};

TermDocs docs_of(const TermLists& term, std::size_t cap) {
  TermDocs out;
  for (const auto& way : term.ways) {
    if (way.empty()) continue;  // nothing but stop words
    if (std::any_of(way.begin(), way.end(),
                    [](const ChampionList* l) { return l->doc_ids.empty(); })) {
      continue;  // a lexeme no document holds
    }
    for (const auto* l : way) out.whole = out.whole && l->doc_ids.size() <= cap;
    // A phrase's documents: those on every one of its lexemes' lists, with
    // their weights summed. Its shortest list is walked, the others looked up.
    const ChampionList* shortest =
        *std::min_element(way.begin(), way.end(), [](const ChampionList* a, const ChampionList* b) {
          return a->doc_ids.size() < b->doc_ids.size();
        });
    for (std::size_t i = 0; i < shortest->doc_ids.size(); ++i) {
      const long long id = shortest->doc_ids[i];
      float sum = 0;
      bool on_all = true;
      for (const auto* l : way) {
        const auto at = std::find(l->doc_ids.begin(), l->doc_ids.end(), id);
        if (at == l->doc_ids.end()) {
          on_all = false;
          break;
        }
        const auto k = static_cast<std::size_t>(at - l->doc_ids.begin());
        sum += k < l->scores.size() ? l->scores[k] : 0.0F;
      }
      if (!on_all) continue;
      auto& hit = out.hits[id];
      hit.score = std::max(hit.score, sum);
      hit.lists += static_cast<int>(way.size());
    }
  }
  return out;
}

}  // namespace

std::vector<long long> choose_term_candidates(const std::vector<TermLists>& terms, int wanted,
                                              bool keep_all) {
  // Two per result wanted, plus five: each candidate costs the exact
  // ordering a document's lookup and several tests of its whole vector
  // (~7 us of a search's ~0.4 ms at 1,000 pages), and every evaluation set
  // ranks the same as with three per result plus ten (docs/PERFORMANCE.md,
  // "Fewer candidates"); with fewer (20) recall@5 fell on two sets.
  const std::size_t cap = 2 * static_cast<std::size_t>(std::max(wanted, 0)) + 5;

  std::vector<TermDocs> docs;
  docs.reserve(terms.size());
  for (const auto& t : terms) docs.push_back(docs_of(t, cap));

  // The rarest term's documents, when whole (from lists shorter than the
  // cap): every document holding all the terms is among them. A capped
  // list promises nothing, and kept whole it was most of the candidates of
  // a question of everyday words. Ties: the first term.
  const TermDocs* rarest = nullptr;
  for (const auto& d : docs) {
    if (d.hits.empty() || !d.whole || d.hits.size() > cap) continue;
    if (!rarest || d.hits.size() < rarest->hits.size()) rarest = &d;
  }

  // Of the rest, the documents on the most terms, then on the most lists
  // (several ways of writing a term), then the highest summed weight (ties:
  // the lower id, so that the choice is deterministic).
  struct Tally {
    int terms = 0;
    int lists = 0;
    float score = 0;
  };
  std::unordered_map<long long, Tally> tally;
  std::size_t entries = 0;
  for (const auto& d : docs) entries += d.hits.size();
  tally.reserve(entries);
  for (const auto& d : docs) {
    for (const auto& [id, hit] : d.hits) {
      auto& t = tally[id];
      ++t.terms;
      t.lists += hit.lists;
      t.score += hit.score;
    }
  }
  std::vector<std::pair<long long, Tally>> ranked(tally.begin(), tally.end());
  const auto better = [](const auto& a, const auto& b) {
    if (a.second.terms != b.second.terms) return a.second.terms > b.second.terms;
    if (a.second.lists != b.second.lists) return a.second.lists > b.second.lists;
    if (a.second.score != b.second.score) return a.second.score > b.second.score;
    return a.first < b.first;
  };
  if (!keep_all && ranked.size() > cap) {
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(cap),
                      ranked.end(), better);
    ranked.resize(cap);
  }

  std::vector<long long> out;
  out.reserve(ranked.size() + (rarest ? rarest->hits.size() : 0));
  for (const auto& [id, t] : ranked) out.push_back(id);
  if (rarest) {
    for (const auto& [id, hit] : rarest->hits) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace chrysopedia::search

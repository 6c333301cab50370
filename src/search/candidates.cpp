#include "search/candidates.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <stdexcept>

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

// Documents by id, for the few thousand a question's lists name: open
// addressing in one block, sized up front for `most` ids (a hash node per
// document made malloc and free a third of the choice's time).
template <typename V>
class IdMap {
 public:
  explicit IdMap(std::size_t most) {
    std::size_t slots = 16;
    while (slots < 2 * most) slots *= 2;
    slots_.resize(slots);
    mask_ = slots - 1;
  }
  /// The id's value, made when new; at most `most` ids in all.
  V& operator[](long long id) {
    auto i =
        static_cast<std::size_t>((static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ULL) >> 32) &
        mask_;
    while (slots_[i].id != kNone && slots_[i].id != id) i = (i + 1) & mask_;
    if (slots_[i].id == kNone) {
      slots_[i].id = id;
      ++size_;
    }
    return slots_[i].value;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& slot : slots_) {
      if (slot.id != kNone) f(slot.id, slot.value);
    }
  }

 private:
  static constexpr long long kNone = std::numeric_limits<long long>::min();
  struct Slot {
    long long id = kNone;
    V value{};
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

// The documents a term can match, with the weight of its best way there;
// `whole` when no list it came from was cut (at the cap or above).
struct TermDocs {
  struct Hit {
    float score = 0;  // the best way's
    int lists = 0;    // the lists it is on, over all the term's ways
  };
  explicit TermDocs(std::size_t most) : hits(most) {}
  IdMap<Hit> hits;
  bool whole = true;
};

// A list's weight at position `k` (0 where the list has fewer weights).
float score_at(const ChampionList& l, std::size_t k) {
  return k < l.scores.size() ? l.scores[k] : 0.0F;
}

TermDocs docs_of(const TermLists& term, std::size_t cap) {
  // Sized by the sum of every list of every way: a bound on all the ways'
  // documents together (a way's are at most its shortest list's), which the
  // table, made once and never grown, must not exceed.
  std::size_t most = 0;
  for (const auto& way : term.ways) {
    for (const auto* l : way) most += l->doc_ids.size();
  }
  TermDocs out(most);
  for (const auto& way : term.ways) {
    if (way.empty()) continue;  // nothing but stop words
    if (std::any_of(way.begin(), way.end(),
                    [](const ChampionList* l) { return l->doc_ids.empty(); })) {
      continue;  // a lexeme no document holds
    }
    for (const auto* l : way) out.whole = out.whole && l->doc_ids.size() <= cap;
    // A phrase's documents: those on every one of its lexemes' lists, with
    // their weights summed (in the phrase's order). Its shortest list is
    // walked, the others searched; the walked one is where the walk is (it
    // was searched from its start too: for a one-word way, half the list
    // per document, most of a long question's candidate choice).
    const auto shortest =
        static_cast<std::size_t>(std::min_element(way.begin(), way.end(),
                                                  [](const ChampionList* a, const ChampionList* b) {
                                                    return a->doc_ids.size() < b->doc_ids.size();
                                                  }) -
                                 way.begin());
    const ChampionList& walked = *way[shortest];
    for (std::size_t i = 0; i < walked.doc_ids.size(); ++i) {
      const long long id = walked.doc_ids[i];
      float sum = 0;
      bool on_all = true;
      for (std::size_t j = 0; j < way.size(); ++j) {
        if (j == shortest) {
          sum += score_at(walked, i);
          continue;
        }
        const ChampionList& l = *way[j];
        const auto at = std::find(l.doc_ids.begin(), l.doc_ids.end(), id);
        if (at == l.doc_ids.end()) {
          on_all = false;
          break;
        }
        sum += score_at(l, static_cast<std::size_t>(at - l.doc_ids.begin()));
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
  // (~4.5 us of a search's ~0.35 ms at 1,000 pages), and every evaluation set
  // ranks the same as with three per result plus ten (docs/PERFORMANCE.md,
  // "Cheaper candidates"); at 20 the fresh set's recall@5 fell.
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
  std::size_t entries = 0;
  for (const auto& d : docs) entries += d.hits.size();
  IdMap<Tally> tally(entries);
  for (const auto& d : docs) {
    d.hits.for_each([&](long long id, const TermDocs::Hit& hit) {
      auto& t = tally[id];
      ++t.terms;
      t.lists += hit.lists;
      t.score += hit.score;
    });
  }
  std::vector<std::pair<long long, Tally>> ranked;
  ranked.reserve(tally.size());
  tally.for_each([&](long long id, const Tally& t) { ranked.emplace_back(id, t); });
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
    rarest->hits.for_each([&](long long id, const TermDocs::Hit&) { out.push_back(id); });
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace chrysopedia::search

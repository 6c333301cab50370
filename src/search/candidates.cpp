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

std::vector<long long> choose_candidates(const std::vector<ChampionList>& lists, int wanted,
                                         bool keep_all) {
  std::vector<const ChampionList*> pointers;
  pointers.reserve(lists.size());
  for (const auto& l : lists) pointers.push_back(&l);
  return choose_candidates_among(pointers, wanted, keep_all);
}

std::vector<long long> choose_candidates_among(const std::vector<const ChampionList*>& lists,
                                               int wanted, bool keep_all) {
  // Three per result wanted, plus ten: on the sample questions the same top
  // five as ordering every champion, for a fraction of the exact ordering's
  // work (it tests each candidate's whole document several times).
  const std::size_t cap = 3 * static_cast<std::size_t>(std::max(wanted, 0)) + 10;

  // The rarest word's list, when it is whole (shorter than the cap): every
  // document holding all the words is on it. A capped list promises
  // nothing, and kept whole it was most of the candidates of a question of
  // everyday words. Ties: the first lexeme in the database's order.
  const ChampionList* rarest = nullptr;
  for (const auto* list : lists) {
    if (list->doc_ids.empty() || list->doc_ids.size() > cap) continue;
    if (!rarest || list->doc_ids.size() < rarest->doc_ids.size()) rarest = list;
  }

  // Of the rest, the documents on the most lists, then the highest summed
  // weight (ties: the lower id, so that the choice is deterministic).
  struct Tally {
    int lists = 0;
    float score = 0;
  };
  std::unordered_map<long long, Tally> tally;
  std::size_t entries = 0;
  for (const auto* list : lists) entries += list->doc_ids.size();
  tally.reserve(entries);
  for (const auto* list : lists) {
    for (std::size_t i = 0; i < list->doc_ids.size(); ++i) {
      auto& t = tally[list->doc_ids[i]];
      ++t.lists;
      t.score += i < list->scores.size() ? list->scores[i] : 0.0F;
    }
  }
  std::vector<std::pair<long long, Tally>> ranked(tally.begin(), tally.end());
  const auto better = [](const auto& a, const auto& b) {
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
  out.reserve(ranked.size() + (rarest ? rarest->doc_ids.size() : 0));
  for (const auto& [id, t] : ranked) out.push_back(id);
  if (rarest) out.insert(out.end(), rarest->doc_ids.begin(), rarest->doc_ids.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace chrysopedia::search

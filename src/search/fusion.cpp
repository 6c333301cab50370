#include "search/fusion.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace chrysopedia::search {

namespace {

constexpr double kRrfK = 1;

auto key_of(const SearchItem& item) {
  return std::tie(item.slug, item.section_anchor, item.section_heading);
}

}  // namespace

std::vector<SearchItem> fuse_rankings(const std::vector<SearchItem>& leading,
                                      const std::vector<SearchItem>& second, std::size_t limit,
                                      bool first_is_exact_title, double second_weight) {
  struct Entry {
    const SearchItem* item;
    double score = 0;
    std::size_t leading_rank;  // first tie-breaker; past the end when absent
    std::size_t second_rank;   // second
  };
  const std::size_t absent = leading.size() + second.size() + 1;
  std::vector<Entry> entries;
  std::map<std::tuple<const std::string&, const std::string&, const std::string&>, std::size_t>
      where;
  const auto add = [&](const SearchItem& item, std::size_t rank, bool is_leading) {
    auto [it, fresh] = where.try_emplace(key_of(item), entries.size());
    if (fresh) entries.push_back({&item, 0, absent, absent});
    auto& e = entries[it->second];
    e.score += (is_leading ? 1.0 : second_weight) / (kRrfK + static_cast<double>(rank + 1));
    auto& kept = is_leading ? e.leading_rank : e.second_rank;
    kept = std::min(kept, rank);
  };
  for (std::size_t i = 0; i < leading.size(); ++i) add(leading[i], i, true);
  for (std::size_t i = 0; i < second.size(); ++i) add(second[i], i, false);
  std::stable_sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
    if (first_is_exact_title && (a.leading_rank == 0) != (b.leading_rank == 0)) {
      return a.leading_rank == 0;
    }
    if (a.score != b.score) return a.score > b.score;
    if (a.leading_rank != b.leading_rank) return a.leading_rank < b.leading_rank;
    return a.second_rank < b.second_rank;
  });
  std::vector<SearchItem> out;
  for (const auto& e : entries) {
    if (out.size() == limit) break;
    out.push_back(*e.item);
  }
  return out;
}

}  // namespace chrysopedia::search

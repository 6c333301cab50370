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

std::vector<SearchItem> fuse_rankings(const std::vector<SearchItem>& full_text,
                                      const std::vector<SearchItem>& semantic, std::size_t limit,
                                      bool first_is_exact_title, double semantic_weight) {
  struct Entry {
    const SearchItem* item;
    double score = 0;
    std::size_t text_rank;      // first tie-breaker; past the end when absent
    std::size_t semantic_rank;  // second
  };
  const std::size_t absent = full_text.size() + semantic.size() + 1;
  std::vector<Entry> entries;
  std::map<std::tuple<const std::string&, const std::string&, const std::string&>, std::size_t>
      where;
  const auto add = [&](const SearchItem& item, std::size_t rank, bool is_text) {
    auto [it, fresh] = where.try_emplace(key_of(item), entries.size());
    if (fresh) entries.push_back({&item, 0, absent, absent});
    auto& e = entries[it->second];
    e.score += (is_text ? 1.0 : semantic_weight) / (kRrfK + static_cast<double>(rank + 1));
    (is_text ? e.text_rank : e.semantic_rank) =
        std::min(is_text ? e.text_rank : e.semantic_rank, rank);
  };
  for (std::size_t i = 0; i < full_text.size(); ++i) add(full_text[i], i, true);
  for (std::size_t i = 0; i < semantic.size(); ++i) add(semantic[i], i, false);
  std::stable_sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
    if (first_is_exact_title && (a.text_rank == 0) != (b.text_rank == 0)) return a.text_rank == 0;
    if (a.score != b.score) return a.score > b.score;
    if (a.text_rank != b.text_rank) return a.text_rank < b.text_rank;
    return a.semantic_rank < b.semantic_rank;
  });
  std::vector<SearchItem> out;
  for (const auto& e : entries) {
    if (out.size() == limit) break;
    out.push_back(*e.item);
  }
  return out;
}

}  // namespace chrysopedia::search

#include "search/ts_rank.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

// Postgres's tsrank.c (calc_rank, calc_rank_or, calc_rank_and) read for
// its arithmetic: which sums are float and which double decides the last
// bit, and the ranking compares those bits (ties go to page order).

namespace chrysopedia::search {

namespace {

constexpr int kMaxEntryPos = 1 << 14;

// The query's operands, each distinct lexeme once, in Postgres's order
// (SortAndUniqItems; prefix flags and weights play no part).
std::vector<const TsQuery::Node*> sorted_operands(const TsQuery& q) {
  std::vector<const TsQuery::Node*> items;
  for (const auto& n : q.nodes) {
    if (n.kind == TsQuery::Kind::lexeme) items.push_back(&n);
  }
  std::stable_sort(items.begin(), items.end(), [](const auto* a, const auto* b) {
    return compare_lexemes(a->lexeme, b->lexeme) < 0;
  });
  items.erase(std::unique(items.begin(), items.end(),
                          [](const auto* a, const auto* b) { return a->lexeme == b->lexeme; }),
              items.end());
  return items;
}

// The entries an operand finds: its lexeme, or for a prefix every lexeme
// it starts.
std::vector<const TsVector::Entry*> entries_of(const TsVector& t, const TsQuery::Node& item) {
  std::vector<const TsVector::Entry*> out;
  if (!item.prefix) {
    if (const auto* e = t.find(item.lexeme)) out.push_back(e);
    return out;
  }
  for (std::size_t i = t.lower_bound(item.lexeme);
       i < t.entries.size() && t.entries[i].lexeme.starts_with(item.lexeme); ++i) {
    out.push_back(&t.entries[i]);
  }
  return out;
}

float word_distance(int w) {
  if (w > 100) return 1e-30f;
  return static_cast<float>(1.0 / (1.005 + 0.05 * std::exp(static_cast<float>(w) / 1.5 - 2)));
}

float rank_or(const std::array<float, 4>& w, const TsVector& t, const TsQuery& q) {
  const auto items = sorted_operands(q);
  float res = 0.0f;
  for (const auto* item : items) {
    for (const auto* entry : entries_of(t, *item)) {
      // A lexeme without positions counts as one at position 0, weight D.
      static const std::vector<std::uint16_t> kNoPositions{0};
      const auto& post = entry->positions.empty() ? kNoPositions : entry->positions;
      float resj = 0.0f;
      float wjm = -1.0f;
      int jm = 0;
      for (int j = 0; j < static_cast<int>(post.size()); ++j) {
        const float wp = w[static_cast<std::size_t>(weight_of(post[static_cast<std::size_t>(j)]))];
        resj = resj + wp / static_cast<float>((j + 1) * (j + 1));
        if (wp > wjm) {
          wjm = wp;
          jm = j;
        }
      }
      res = static_cast<float>(res + (wjm + resj - wjm / static_cast<float>((jm + 1) * (jm + 1))) /
                                         1.64493406685);
    }
  }
  if (!items.empty()) res = res / static_cast<float>(items.size());
  return res;
}

float rank_and(const std::array<float, 4>& w, const TsVector& t, const TsQuery& q) {
  const auto items = sorted_operands(q);
  if (items.size() < 2) return rank_or(w, t, q);
  // A lexeme without positions counts as one at the last position.
  static const std::vector<std::uint16_t> kNoPositions{kMaxEntryPos - 1};
  std::vector<const std::vector<std::uint16_t>*> pos(items.size(), nullptr);
  float res = -1.0f;
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (const auto* entry : entries_of(t, *items[i])) {
      pos[i] = entry->positions.empty() ? &kNoPositions : &entry->positions;
      const auto& post = *pos[i];
      for (std::size_t k = 0; k < i; ++k) {
        if (!pos[k]) continue;
        const auto& ct = *pos[k];
        for (const auto pl : post) {
          for (const auto pp : ct) {
            int dist =
                std::abs(static_cast<int>(position_of(pl)) - static_cast<int>(position_of(pp)));
            if (dist || pos[i] == &kNoPositions || pos[k] == &kNoPositions) {
              if (!dist) dist = kMaxEntryPos;
              const float curw = static_cast<float>(std::sqrt(static_cast<double>(
                  w[static_cast<std::size_t>(weight_of(pl))] *
                  w[static_cast<std::size_t>(weight_of(pp))] * word_distance(dist))));
              res = res < 0 ? curw : static_cast<float>(1.0 - (1.0 - res) * (1.0 - curw));
            }
          }
        }
      }
    }
  }
  return res;
}

}  // namespace

float ts_rank(const std::array<float, 4>& w, const TsVector& t, const TsQuery& q,
              int normalization) {
  if (t.entries.empty() || q.root < 0) return 0.0f;
  const auto root = q.nodes[static_cast<std::size_t>(q.root)].kind;
  float res = (root == TsQuery::Kind::op_and || root == TsQuery::Kind::op_phrase)
                  ? rank_and(w, t, q)
                  : rank_or(w, t, q);
  if (res < 0) res = 1e-20f;
  const auto size = static_cast<double>(t.entries.size());
  if (normalization & 0x01) {
    res = static_cast<float>(res / (std::log(static_cast<double>(t.length() + 1)) / std::log(2.0)));
  }
  if (normalization & 0x02) {
    const int len = t.length();
    if (len > 0) res /= static_cast<float>(len);
  }
  if (normalization & 0x08) res /= static_cast<float>(t.entries.size());
  if (normalization & 0x10) res = static_cast<float>(res / (std::log(size + 1) / std::log(2.0)));
  if (normalization & 0x20) res /= (res + 1);
  return res;
}

}  // namespace chrysopedia::search

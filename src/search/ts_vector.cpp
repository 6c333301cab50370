#include "search/ts_vector.hpp"

#include <algorithm>
#include <cstring>

namespace chrysopedia::search {

int compare_lexemes(std::string_view a, std::string_view b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c < 0 ? -1 : 1;
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

std::size_t TsVector::lower_bound(std::string_view prefix) const {
  const auto it = std::lower_bound(
      entries.begin(), entries.end(), prefix,
      [](const Entry& e, std::string_view p) { return compare_lexemes(e.lexeme, p) < 0; });
  return static_cast<std::size_t>(it - entries.begin());
}

const TsVector::Entry* TsVector::find(std::string_view lexeme) const {
  const std::size_t i = lower_bound(lexeme);
  return i < entries.size() && entries[i].lexeme == lexeme ? &entries[i] : nullptr;
}

int TsVector::length() const {
  int n = 0;
  for (const auto& e : entries) n += e.positions.empty() ? 1 : static_cast<int>(e.positions.size());
  return n;
}

namespace {

// One lexeme, quoted ('' and \ escape) or bare up to a space or colon.
bool read_lexeme(std::string_view text, std::size_t& i, std::string& out) {
  out.clear();
  if (i < text.size() && text[i] == '\'') {
    for (++i; i < text.size(); ++i) {
      char c = text[i];
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '\'') {
        if (i + 1 < text.size() && text[i + 1] == '\'') {
          out += '\'';
          ++i;
        } else {
          ++i;
          return true;
        }
      } else {
        out += c;
      }
    }
    return false;
  }
  while (i < text.size() && text[i] != ' ' && text[i] != ':') {
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    out += text[i++];
  }
  return !out.empty();
}

// "1A,5,7B": positions with their weights (none: D).
bool read_positions(std::string_view text, std::size_t& i, std::vector<std::uint16_t>& out) {
  for (;;) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    long pos = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      pos = std::min(pos * 10 + (text[i++] - '0'), 100000L);
    }
    // Postgres keeps positions in 1..16383 (beyond: 16383).
    pos = std::clamp(pos, 1L, 16383L);
    int weight = 0;
    if (i < text.size()) {
      switch (text[i]) {
        case 'A':
        case 'a':
          weight = 3;
          ++i;
          break;
        case 'B':
        case 'b':
          weight = 2;
          ++i;
          break;
        case 'C':
        case 'c':
          weight = 1;
          ++i;
          break;
        case 'D':
        case 'd':
          weight = 0;
          ++i;
          break;
        default:
          break;
      }
    }
    out.push_back(static_cast<std::uint16_t>((weight << 14) | pos));
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    return true;
  }
}

}  // namespace

std::optional<TsVector> parse_tsvector(std::string_view text) {
  TsVector v;
  std::size_t i = 0;
  std::string lexeme;
  for (;;) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    if (!read_lexeme(text, i, lexeme)) return std::nullopt;
    TsVector::Entry e{lexeme, {}};
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (!read_positions(text, i, e.positions)) return std::nullopt;
    }
    if (i < text.size() && text[i] != ' ') return std::nullopt;
    v.entries.push_back(std::move(e));
  }
  // As Postgres stores them (its own text has them so already): lexemes
  // in its order, each once, its positions ascending, each once with the
  // heaviest weight written for it (tsvectorin's uniquePos).
  std::stable_sort(v.entries.begin(), v.entries.end(), [](const auto& a, const auto& b) {
    return compare_lexemes(a.lexeme, b.lexeme) < 0;
  });
  std::vector<TsVector::Entry> merged;
  for (auto& e : v.entries) {
    if (!merged.empty() && merged.back().lexeme == e.lexeme) {
      auto& p = merged.back().positions;
      p.insert(p.end(), e.positions.begin(), e.positions.end());
    } else {
      merged.push_back(std::move(e));
    }
  }
  for (auto& e : merged) {
    auto& p = e.positions;
    std::sort(p.begin(), p.end(), [](auto a, auto b) {
      return position_of(a) != position_of(b) ? position_of(a) < position_of(b) : a > b;
    });
    // Sorted heaviest first within a position: the first of each stays.
    p.erase(std::unique(p.begin(), p.end(),
                        [](auto a, auto b) { return position_of(a) == position_of(b); }),
            p.end());
  }
  v.entries = std::move(merged);
  return v;
}

}  // namespace chrysopedia::search

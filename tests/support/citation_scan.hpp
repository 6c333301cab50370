#pragma once

// What the citation scanner finds in an answer given as deltas: shared by
// its unit tests and its fuzz target.
#include <algorithm>
#include <ostream>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/citation_scanner.hpp"

namespace chrysopedia::test {

struct CitationsFound {
  CitationsFound() = default;
  CitationsFound(std::vector<int> c, std::vector<int> i)
      : cited(std::move(c)), invalid(std::move(i)) {}
  std::vector<int> cited;
  std::vector<int> invalid;
  /// Each citing marker's [begin, end) in bytes and its numbers (from a
  /// second scanner keeping markers); not part of ==.
  struct Span {
    std::size_t begin, end;
    std::vector<int> numbers;
    bool operator==(const Span&) const = default;
  };
  std::vector<Span> spans;
  /// Whether the marker-keeping scanner found the same numbers.
  bool markers_agree = true;
  bool operator==(const CitationsFound& o) const {
    return cited == o.cited && invalid == o.invalid;
  }
};

inline std::ostream& operator<<(std::ostream& os, const CitationsFound& f) {
  os << "cited [";
  for (int n : f.cited) os << n << ' ';
  os << "] invalid [";
  for (int n : f.invalid) os << n << ' ';
  return os << ']';
}

template <typename Deltas>
CitationsFound scan_citations(const Deltas& deltas, std::size_t sources) {
  chat::CitationScanner s(sources);
  chat::CitationScanner kept(sources, true);
  for (const auto& d : deltas) {
    s.feed(std::string_view(d));
    kept.feed(std::string_view(d));
  }
  s.finish();
  kept.finish();
  CitationsFound found{s.cited(), s.invalid()};
  found.markers_agree = kept.cited() == s.cited() && kept.invalid() == s.invalid();
  for (const auto& m : kept.markers()) found.spans.push_back({m.begin, m.end, m.numbers});
  return found;
}

/// Whether every span is a `[...]` of `text` in order, apart, and the
/// numbers of the spans are exactly those cited and invalid.
inline bool spans_hold(std::string_view text, const CitationsFound& f) {
  std::size_t after = 0;
  std::vector<int> named;
  for (const auto& span : f.spans) {
    if (span.begin < after || span.end <= span.begin + 1 || span.end > text.size()) return false;
    if (text[span.begin] != '[' || text[span.end - 1] != ']') return false;
    after = span.end;
    for (int n : span.numbers) {
      if (std::find(named.begin(), named.end(), n) == named.end()) named.push_back(n);
    }
  }
  std::vector<int> listed = f.cited;
  listed.insert(listed.end(), f.invalid.begin(), f.invalid.end());
  std::sort(named.begin(), named.end());
  std::sort(listed.begin(), listed.end());
  return f.markers_agree && named == listed;
}

}  // namespace chrysopedia::test

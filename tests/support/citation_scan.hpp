#pragma once

// What the citation scanner finds in an answer given as deltas: shared by
// its unit tests and its fuzz target.
#include <ostream>
#include <string_view>
#include <vector>

#include "chat/citation_scanner.hpp"

namespace chrysopedia::test {

struct CitationsFound {
  std::vector<int> cited;
  std::vector<int> invalid;
  bool operator==(const CitationsFound&) const = default;
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
  for (const auto& d : deltas) s.feed(std::string_view(d));
  s.finish();
  return {s.cited(), s.invalid()};
}

}  // namespace chrysopedia::test

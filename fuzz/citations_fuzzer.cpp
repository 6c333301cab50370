// The citation scanner on any answer text: the same citations however the
// text is cut into deltas, every number where it belongs, and (where there
// is no code at all) every plain `[N]` found, by an oracle of its own; and
// every marker's span where the marker is.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "support/citation_scan.hpp"

using Found = chrysopedia::test::CitationsFound;

namespace {

Found scan(std::string_view text, std::size_t sources, const std::vector<std::size_t>& cuts) {
  std::vector<std::string_view> deltas;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    if (cut <= at || cut >= text.size()) continue;
    deltas.push_back(text.substr(at, cut - at));
    at = cut;
  }
  deltas.push_back(text.substr(at));
  return chrysopedia::test::scan_citations(deltas, sources);
}

// `[N]` with N decimal, no leading zero, at most six digits.
std::set<int> plain_markers(std::string_view t) {
  std::set<int> out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '[') continue;
    std::size_t j = i + 1;
    while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
    const std::size_t digits = j - i - 1;
    if (digits == 0 || digits > 6 || j >= t.size() || t[j] != ']') continue;
    if (digits > 1 && t[i + 1] == '0') continue;
    out.insert(std::stoi(std::string(t.substr(i + 1, digits))));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // The first byte: how many sources; the second: where to cut.
  const std::size_t sources = data[0] % 16;
  const std::size_t step = 1 + data[1] % 7;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);

  const Found whole = scan(text, sources, {});
  std::vector<std::size_t> cuts;
  for (std::size_t c = step; c < text.size(); c += step) cuts.push_back(c);
  const Found cut = scan(text, sources, cuts);
  FUZZ_CHECK(cut == whole);
  // The markers' spans (the non-streamed annotations): each a `[...]` of
  // the text, in order, naming what was cited, wherever the text was cut.
  FUZZ_CHECK(chrysopedia::test::spans_hold(text, whole));
  FUZZ_CHECK(cut.spans == whole.spans);

  std::set<int> seen;
  for (int n : whole.cited) {
    FUZZ_CHECK(n >= 1 && static_cast<std::size_t>(n) <= sources);
    FUZZ_CHECK(seen.insert(n).second);
  }
  for (int n : whole.invalid) {
    FUZZ_CHECK(n == 0 || static_cast<std::size_t>(n) > sources);
    FUZZ_CHECK(seen.insert(n).second);
  }
  if (text.find_first_of("`~") == std::string_view::npos) {
    for (int n : plain_markers(text)) FUZZ_CHECK(seen.count(n) == 1);
  }
  return 0;
}

// SPEC §1's citation rules, each fed whole and split at every byte.
#include <gtest/gtest.h>

#include "support/citation_scan.hpp"

using Found = chrysopedia::test::CitationsFound;

namespace {

Found scan(const std::vector<std::string>& deltas, std::size_t sources = 10) {
  return chrysopedia::test::scan_citations(deltas, sources);
}

// The same answer whole, a byte at a time, and cut at every place.
Found scan_every_way(const std::string& text, std::size_t sources = 10) {
  const Found whole = scan({text}, sources);
  EXPECT_TRUE(chrysopedia::test::spans_hold(text, whole)) << "marker spans: " << text;
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  const Found by_byte = scan(bytes, sources);
  EXPECT_EQ(by_byte, whole) << "byte by byte: " << text;
  EXPECT_EQ(by_byte.spans, whole.spans) << "byte by byte: " << text;
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    const Found two = scan({text.substr(0, cut), text.substr(cut)}, sources);
    EXPECT_EQ(two, whole) << "cut at " << cut << ": " << text;
    EXPECT_EQ(two.spans, whole.spans) << "spans, cut at " << cut << ": " << text;
  }
  return whole;
}

}  // namespace

TEST(CitationScanner, TheSpecsForms) {
  EXPECT_EQ(scan_every_way("Duck it [1]. Then [2]."), (Found{{1, 2}, {}}));
  EXPECT_EQ(scan_every_way("Both [1, 2] and [1][2] and [1,2]."), (Found{{1, 2}, {}}));
  EXPECT_EQ(scan_every_way("Nested [[3]]."), (Found{{3}, {}}));
  EXPECT_EQ(scan_every_way("A range [1-3] and [4\xE2\x80\x93"
                           "5]."),
            (Found{{1, 2, 3, 4, 5}, {}}));
  EXPECT_EQ(scan_every_way("First cited first: [3] then [1] then [3]."), (Found{{3, 1}, {}}));
}

TEST(CitationScanner, NumbersOutsideTheSourcesAreInvalid) {
  EXPECT_EQ(scan_every_way("See [12] and [0] and [2].", 10), (Found{{2}, {12, 0}}));
  EXPECT_EQ(scan_every_way("Nothing listed [1].", 0), (Found{{}, {1}}));
}

TEST(CitationScanner, WhatIsNoCitation) {
  EXPECT_EQ(scan_every_way("[ 1 ] [01] [1 ] [a] [] [1,] [3-1] [1-500] [see 2](x)"), Found{});
  EXPECT_EQ(scan_every_way("An array a[1] is [1] too."), (Found{{1}, {}}))
      << "a marker is a marker, wherever it stands";
}

TEST(CitationScanner, NothingInCodeCounts) {
  EXPECT_EQ(scan_every_way("Use `x[1]` here [2]."), (Found{{2}, {}}));
  EXPECT_EQ(scan_every_way("Use ``a ` [1]`` here [2]."), (Found{{2}, {}}));
  EXPECT_EQ(scan_every_way("Code:\n```cpp\nv[1] = 0; // [3]\n```\nAfter [2]."), (Found{{2}, {}}));
  EXPECT_EQ(scan_every_way("~~~\n[1]\n~~~~\n[4]"), (Found{{4}, {}}));
  EXPECT_EQ(scan_every_way("  ```\n[1]\n```\n[5]"), (Found{{5}, {}})) << "indented fence";
  EXPECT_EQ(scan_every_way("Open fence\n```\n[1] never closed"), Found{});
}

TEST(CitationScanner, ABacktickRunWithNoCloserIsLiteral) {
  // No closer in the paragraph: the backtick is text, [1] a citation.
  EXPECT_EQ(scan_every_way("It costs 5` [1].\n\nNext [2]."), (Found{{1, 2}, {}}));
  EXPECT_EQ(scan_every_way("A lone ` then [1]"), (Found{{1}, {}}));
  // The unclosed run is literal; a span after it still hides [2].
  EXPECT_EQ(scan_every_way("x ` [1] ``[2]`` [3]"), (Found{{1, 3}, {}}));
  // A span may cross a line break inside its paragraph.
  EXPECT_EQ(scan_every_way("`a\n[1]` [2]"), (Found{{2}, {}}));
}

TEST(CitationScanner, AMarkerMaySpanDeltas) {
  EXPECT_EQ(scan({"see [", "1", "] and [2", "]"}), (Found{{1, 2}, {}}));
  EXPECT_EQ(scan({"a `", "[1]", "` b [3]"}), (Found{{3}, {}}));
}

TEST(CitationScanner, KeepsEachMarkersSpanWhenAsked) {
  using Span = Found::Span;
  // "Duck [1]. Both [2, 3]. Nested [[4]]. `[5]` [12]"
  const std::string text = "Duck [1]. Both [2, 3]. Nested [[4]]. `[5]` [12]";
  const Found f = scan_every_way(text, 10);
  EXPECT_EQ(f, (Found{{1, 2, 3, 4}, {12}}));
  EXPECT_EQ(f.spans,
            (std::vector<Span>{{5, 8, {1}}, {15, 21, {2, 3}}, {31, 34, {4}}, {43, 47, {12}}}));
  // A backtick run that never closes is literal: its text is read again,
  // and its markers keep the offsets they had.
  const std::string literal = "It costs 5` [1].\n\nNext [2].";
  EXPECT_EQ(scan_every_way(literal).spans, (std::vector<Span>{{12, 15, {1}}, {23, 26, {2}}}));
  // Without keep_markers nothing is kept.
  chrysopedia::chat::CitationScanner plain(10);
  plain.feed(text);
  plain.finish();
  EXPECT_TRUE(plain.markers().empty());
}

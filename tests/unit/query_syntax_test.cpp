#include <gtest/gtest.h>

#include "search/query_syntax.hpp"

using chrysopedia::search::parse_query;

TEST(QuerySyntax, PlainWords) {
  const auto q = parse_query("  how do I  sidechain\tbass ");
  EXPECT_EQ(q.terms, (std::vector<std::string>{"how", "do", "I", "sidechain", "bass"}));
  EXPECT_TRUE(q.excluded.empty());
  EXPECT_FALSE(q.uses_syntax);
}

TEST(QuerySyntax, PhrasesExclusionsAndOr) {
  const auto q = parse_query(R"("low end" mono -sidechain -"parallel compression" kick OR snare)");
  EXPECT_EQ(q.terms, (std::vector<std::string>{"low end", "mono", "kick", "snare"}));
  EXPECT_EQ(q.excluded, (std::vector<std::string>{"sidechain", "parallel compression"}));
  EXPECT_TRUE(q.uses_syntax);
}

TEST(QuerySyntax, OddInputIsHandled) {
  EXPECT_TRUE(parse_query("").terms.empty());
  EXPECT_TRUE(parse_query("   ").terms.empty());
  EXPECT_EQ(parse_query("\"unclosed phrase").terms, (std::vector<std::string>{"unclosed phrase"}));
  EXPECT_EQ(parse_query("a - b").terms, (std::vector<std::string>{"a", "-", "b"}));
  EXPECT_EQ(parse_query("-").terms, (std::vector<std::string>{"-"}));
  EXPECT_EQ(parse_query("pre-delay").terms, (std::vector<std::string>{"pre-delay"}));
  EXPECT_EQ(parse_query("\"\"").terms.size(), 0u);
  EXPECT_EQ(parse_query("or").terms.size(), 0u);
  EXPECT_EQ(parse_query("ベース 🎛️").terms.size(), 2u);
}

// Issue 16: "muss ich auf -14 LUFS mastern" excluded "14" and found nothing.
TEST(QuerySyntax, AMinusBeforeANumberIsNoExclusion) {
  const auto p = parse_query("master to -14 LUFS with -1 dBTP, -loud");
  EXPECT_EQ(p.terms,
            (std::vector<std::string>{"master", "to", "-14", "LUFS", "with", "-1", "dBTP,"}));
  EXPECT_EQ(p.excluded, (std::vector<std::string>{"loud"}));
  EXPECT_EQ(parse_query("-\"white noise\"").excluded, (std::vector<std::string>{"white noise"}));
}

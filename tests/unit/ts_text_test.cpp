// Postgres's text forms of tsvector and tsquery, read as Postgres reads
// them (the agreement on real documents is ts_rank_pgtest's).
#include <gtest/gtest.h>

#include "search/ts_match.hpp"
#include "search/ts_query.hpp"
#include "search/ts_vector.hpp"

using namespace chrysopedia::search;

TEST(TsVectorText, LexemesPositionsAndWeightsAreRead) {
  const auto v = parse_tsvector("'kick':1A,5 'drum':2B 'it''s':3 'a\\\\b':4C 'bare'");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->entries.size(), 5u);
  // Postgres's order: bytes, then length.
  EXPECT_EQ(v->entries[0].lexeme, "a\\b");
  EXPECT_EQ(v->entries[1].lexeme, "bare");
  EXPECT_TRUE(v->entries[1].positions.empty());
  const auto* kick = v->find("kick");
  ASSERT_NE(kick, nullptr);
  ASSERT_EQ(kick->positions.size(), 2u);
  EXPECT_EQ(position_of(kick->positions[0]), 1);
  EXPECT_EQ(weight_of(kick->positions[0]), 3);
  EXPECT_EQ(weight_of(kick->positions[1]), 0);
  EXPECT_NE(v->find("it's"), nullptr);
  EXPECT_EQ(v->find("kic"), nullptr);
  EXPECT_EQ(v->length(), 6);  // five positions, and one for the bare lexeme
}

TEST(TsVectorText, WhatIsNotATsvectorIsRefused) {
  EXPECT_FALSE(parse_tsvector("'open"));
  EXPECT_FALSE(parse_tsvector("'kick':"));
  EXPECT_FALSE(parse_tsvector("'kick':x"));
  EXPECT_TRUE(parse_tsvector(""));
}

TEST(TsQueryText, PrecedenceIsPostgres) {
  // | below & below <-> below !
  const auto q = parse_tsquery("'a' | 'b' & !'c' <-> 'd'");
  ASSERT_TRUE(q);
  const auto& root = q->nodes[static_cast<std::size_t>(q->root)];
  EXPECT_EQ(root.kind, TsQuery::Kind::op_or);
  const auto& right = q->nodes[static_cast<std::size_t>(root.right)];
  EXPECT_EQ(right.kind, TsQuery::Kind::op_and);
  EXPECT_EQ(q->nodes[static_cast<std::size_t>(right.right)].kind, TsQuery::Kind::op_phrase);
  EXPECT_FALSE(parse_tsquery("'a' &"));
  EXPECT_FALSE(parse_tsquery("( 'a'"));
  EXPECT_FALSE(parse_tsquery("'a' <x> 'b'"));
  const auto w = parse_tsquery("'comp':*AB <3> 'x'");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->nodes[0].prefix);
  EXPECT_EQ(w->nodes[0].weights, 8 | 4);
  EXPECT_EQ(w->nodes[static_cast<std::size_t>(w->root)].distance, 3);
}

TEST(TsMatch, PhrasesMatchOnPositions) {
  const auto v = *parse_tsvector("'bass':2 'drum':4 'kick':1,3");
  const auto m = [&](const char* q) { return ts_matches(v, *parse_tsquery(q)); };
  EXPECT_TRUE(m("'kick' <-> 'bass'"));
  EXPECT_TRUE(m("'kick' <-> 'drum'"));  // 3, 4
  EXPECT_FALSE(m("'bass' <-> 'kick' <-> 'bass'"));
  EXPECT_TRUE(m("'kick' <-> 'bass' <-> 'kick' <-> 'drum'"));
  EXPECT_TRUE(m("'bass' <2> 'drum'"));
  EXPECT_FALSE(m("'bass' <-> 'drum'"));
  EXPECT_TRUE(m("'kick' <-> !'drum'"));  // kick at 1, bass after it
  EXPECT_FALSE(m("'bass' <-> !'kick'"));
  EXPECT_TRUE(m("'kick':* & !'snare'"));
  EXPECT_FALSE(m("'drum':A"));
  EXPECT_FALSE(m(""));
}

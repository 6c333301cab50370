#include <gtest/gtest.h>

#include "common/log_text.hpp"
#include "http/idle_connections.hpp"

using chrysopedia::common::log_quote;

// Issue 15: ESC, BEL and terminal title sequences from a query reached the
// text log raw, and the 200-byte cut could split a character.
TEST(LogQuote, ControlCharactersAreWrittenOutNotPassedOn) {
  EXPECT_EQ(log_quote("plain \"q\" \\ é"), R"("plain \"q\" \\ é")");
  EXPECT_EQ(log_quote("a\x1b]0;owned\x07z"), R"("a\x1b]0;owned\x07z")");
  EXPECT_EQ(log_quote("l1\nl2\r\t"), R"("l1\nl2\r\t")");
  EXPECT_EQ(log_quote(std::string("nul\0x", 5)), R"("nul\x00x")");
  EXPECT_EQ(log_quote("del\x7f"), R"("del\x7f")");
  EXPECT_EQ(log_quote("csi\xc2\x9b"
                      "31m"),
            R"("csi\x9b31m")");
  EXPECT_EQ(log_quote("bad\xff\xc3"), R"("bad\xff\xc3")");
  // A direction override (U+202E) would reorder what a reader sees.
  EXPECT_EQ(log_quote("rtl\xe2\x80\xaex"), R"("rtl\u202ex")");
  for (unsigned c = 0; c < 0x20; ++c) {
    const auto out = log_quote(std::string(1, static_cast<char>(c)));
    for (char o : out) EXPECT_GE(static_cast<unsigned char>(o), 0x20u) << c;
  }
}

TEST(LogQuote, TheCutNeverSplitsACharacter) {
  for (std::size_t pad = 0; pad < 4; ++pad) {
    std::string text(pad, 'a');
    for (int i = 0; i < 100; ++i) text += "🎹";
    const auto out = log_quote(text, 200);
    ASSERT_EQ(out.substr(out.size() - 4), "…\"");
    const auto kept = out.substr(1 + pad, out.size() - 5 - pad);
    EXPECT_EQ(kept.size() % 4, 0u) << "whole four-byte characters only, pad " << pad;
    EXPECT_LE(kept.size() + pad, 200u);
  }
  EXPECT_EQ(log_quote(std::string(200, 'a'), 200), "\"" + std::string(200, 'a') + "\"");
}

TEST(IdleConnections, EachClientHoldsAtMostItsShare) {
  chrysopedia::http::IdleConnections idle(2, {*chrysopedia::http::IpAddress::parse("10.0.0.9")});
  const auto a = idle.client_of("192.0.2.1");
  const auto v6 = idle.client_of("2001:db8::1");
  EXPECT_EQ(v6, idle.client_of("2001:db8::ffff")) << "one /64, one client";
  EXPECT_TRUE(idle.client_of("10.0.0.9").empty()) << "a trusted proxy is not capped";
  auto s1 = idle.try_acquire(a);
  auto s2 = idle.try_acquire(a);
  EXPECT_TRUE(s1 && s2);
  EXPECT_FALSE(idle.try_acquire(a));
  EXPECT_TRUE(idle.try_acquire(v6));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(idle.try_acquire(""));
  s1.release();
  auto s3 = idle.try_acquire(a);
  EXPECT_TRUE(s3);
  { auto moved = std::move(s2); }
  EXPECT_EQ(idle.idle(a), 1u);
  chrysopedia::http::IdleConnections off(0, {});
  EXPECT_TRUE(off.client_of("192.0.2.1").empty()) << "0: no cap";
}

#include <gtest/gtest.h>

#include <random>

#include "chrysopedia/http/sse_framer.hpp"
#include "support/sse_parser.hpp"

using chrysopedia::http::SseFramer;
using chrysopedia::test::normalise_newlines;
using chrysopedia::test::parse_sse;
using chrysopedia::test::SseEvent;

namespace {

// What a client rebuilds from a series of token deltas: the data of each
// token event, concatenated.
std::string client_text(const std::vector<std::string>& deltas) {
  SseFramer framer;
  std::string wire;
  for (const auto& d : deltas) wire += framer.frame("token", d);
  std::string text;
  for (const auto& e : parse_sse(wire)) {
    EXPECT_EQ(e.event, "token");
    text += e.data;
  }
  return text;
}

}  // namespace

TEST(SseFramer, PlainEvent) {
  SseFramer f;
  EXPECT_EQ(f.frame("token", "Hello"), "event: token\ndata: Hello\n\n");
  EXPECT_EQ(f.frame("done", R"({"a":1})"), "event: done\ndata: {\"a\":1}\n\n");
}

TEST(SseFramer, WithoutANameAnEventIsOnlyItsData) {
  SseFramer f;
  // OpenAI's chunks: `data: {json}` and nothing else.
  EXPECT_EQ(f.frame("", R"({"a":1})"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(f.frame("", "[DONE]"), "data: [DONE]\n\n");
  const auto events = parse_sse(f.frame("", "x"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseFramer, EachLineIsItsOwnDataLine) {
  SseFramer f;
  EXPECT_EQ(f.frame("token", "one\ntwo"), "event: token\ndata: one\ndata: two\n\n");
  EXPECT_EQ(f.frame("token", "para\n\nnext"), "event: token\ndata: para\ndata: \ndata: next\n\n");
  EXPECT_EQ(f.frame("token", "end\n"), "event: token\ndata: end\ndata: \n\n");
}

TEST(SseFramer, CrLfAndLoneCrBecomeLf) {
  SseFramer f;
  EXPECT_EQ(f.frame("token", "a\r\nb"), "event: token\ndata: a\ndata: b\n\n");
  EXPECT_EQ(f.frame("token", "a\rb"), "event: token\ndata: a\ndata: b\n\n");
  EXPECT_EQ(f.frame("token", "a\r\n\r\nb"), "event: token\ndata: a\ndata: \ndata: b\n\n");
}

TEST(SseFramer, CrAndLfSplitAcrossDeltasAreOneLineBreak) {
  EXPECT_EQ(client_text({"line one\r", "\nline two"}), "line one\nline two");
  EXPECT_EQ(client_text({"a\r", "\n", "b"}), "a\nb") << "a delta of just the LF adds nothing";
  EXPECT_EQ(client_text({"a\r", "\r", "\nb"}), "a\n\nb");
  EXPECT_EQ(client_text({"a\n", "\nb"}), "a\n\nb") << "LF then LF is two breaks";
  SseFramer f;
  EXPECT_EQ(f.frame("token", "x\r"), "event: token\ndata: x\ndata: \n\n");
  EXPECT_EQ(f.frame("token", "\n"), "");
}

TEST(SseFramer, PendingCrDoesNotLeakIntoAnotherEventName) {
  SseFramer f;
  f.frame("token", "x\r");
  EXPECT_EQ(f.frame("other", "\ny"), "event: other\ndata: \ndata: y\n\n");
}

TEST(SseFramer, LeadingSpacesSurvive) {
  EXPECT_EQ(client_text({"Hello", " world", "  indented"}), "Hello world  indented");
  SseFramer f;
  EXPECT_EQ(f.frame("token", " world"), "event: token\ndata:  world\n\n");
}

TEST(SseFramer, MultiByteUtf8PassesThrough) {
  const std::string text = "Réglage du compresseur — 3 dB ✓ 🎛️\nねじれ";
  EXPECT_EQ(client_text({text}), text);
  // Split inside a multi-byte character: each delta carries raw bytes and
  // the client's concatenation restores the character.
  const std::string check = "✓";
  EXPECT_EQ(client_text({check.substr(0, 1), check.substr(1)}), check);
}

TEST(SseFramer, EmptyDataSendsNothing) {
  SseFramer f;
  EXPECT_EQ(f.frame("token", ""), "");
}

// Found by fuzz/sse_framer_fuzzer: an empty call in between made the CR and
// the LF two line breaks, though it sends nothing and must change nothing.
TEST(SseFramer, EmptyDataBetweenCrAndLfChangesNothing) {
  EXPECT_EQ(client_text({"a\r", "", "\nb"}), "a\nb");
  SseFramer f;
  f.frame("token", "x\r");
  EXPECT_EQ(f.frame("token", ""), "");
  EXPECT_EQ(f.frame("token", "\n"), "");
}

TEST(SseFramer, Comment) {
  EXPECT_EQ(SseFramer::comment("ping"), ": ping\n\n");
}

TEST(SseFramer, AnySplitOfAnyTextRoundTrips) {
  // Property: whatever the text and however the model splits it into
  // deltas, a conforming client rebuilds it with line breaks normalised.
  std::mt19937 rng(12345);
  const std::string alphabet[] = {"a", "b", " ", "\n", "\r", "\r\n", "é", "—", ":", "data: "};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int len = static_cast<int>(rng() % 30);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % std::size(alphabet)];
    std::vector<std::string> deltas;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t n = 1 + rng() % 5;
      deltas.push_back(text.substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(client_text(deltas), normalise_newlines(text)) << "round " << round;
  }
}

TEST(SseParser, FollowsTheStandard) {
  // Our test parser must itself be right for the tests above to mean much.
  const auto events = parse_sse("event: a\r\ndata: x\r\ndata:y\r\n\r\n: comment\n\ndata: z\r\r");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], (SseEvent{"a", "x\ny"}));
  EXPECT_EQ(events[1], (SseEvent{"message", "z"}));
}

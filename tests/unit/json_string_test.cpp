// The hand-written JSON of the prompt and the sources against
// nlohmann::json, which wrote them before: same text for valid UTF-8, and
// always valid JSON that a parser reads back.
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/prompt.hpp"
#include "common/json_string.hpp"
#include "common/utf8.hpp"
#include "llm/openai_stream_client.hpp"
#include "llm/upstream_sse_parser.hpp"

namespace chrysopedia {
namespace {

std::string ours(std::string_view s) {
  std::string out;
  common::append_json_string(out, s);
  return out;
}

std::string theirs(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonString, WritesWhatAJsonLibraryWrites) {
  for (const std::string& s : std::vector<std::string>{
           "", "plain", "quote \" backslash \\ slash /", "tab\tnl\nret\rbs\bff\f",
           std::string("nul \0 and \x1f and \x7f", 17), "caf\xC3\xA9 \xF0\x9F\x8E\xB9",
           "</script> & <b>"}) {
    EXPECT_EQ(ours(s), theirs(s)) << s;
  }
}

TEST(JsonString, ABytePlainTextCannotHoldIsFoundWhereverItSits) {
  // Plain text is scanned eight bytes a step: each byte that must be
  // escaped (or checked as UTF-8), at every offset in and around a step.
  const std::string specials = std::string("\"\\\n\r\t\b\f\x01\x1f", 9) + '\0' + "\x7f\xC3\xA9";
  for (std::size_t at = 0; at < 40; ++at) {
    for (char c : specials) {
      std::string s(41, 'a');
      s[at] = c;
      if (c == '\xC3') s[at + 1] = '\xA9';
      EXPECT_EQ(ours(s), theirs(s))
          << "byte " << int(static_cast<unsigned char>(c)) << " at " << at;
    }
  }
  // Bytes just past the ones that must be escaped are plain.
  EXPECT_EQ(ours(std::string(64, ' ') + "!#[]~"), theirs(std::string(64, ' ') + "!#[]~"));
}

TEST(JsonString, RandomTextRoundTripsThroughAParser) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 40, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 256);
    const std::string written = ours(s);
    nlohmann::json back;
    ASSERT_NO_THROW(back = nlohmann::json::parse(written)) << written;
    // Invalid bytes become U+FFFD one by one, as sanitize_utf8 does.
    EXPECT_EQ(back.get<std::string>(), common::sanitize_utf8(s));
    if (common::sanitize_utf8(s) == s) {
      EXPECT_EQ(written, theirs(s));
    }
  }
}

TEST(JsonString, CompletionBodyIsTheRequestAsJson) {
  llm::CompletionRequest r;
  r.model = "llama3.2";
  r.temperature = 0.3;
  r.max_tokens = 2048;
  r.stream_usage = true;
  r.messages = {{"system", "You are \"Chrysopedia\".\nSources:\n[1] a\\b"},
                {"user", "sidechain?\t\xC3\xA9"}};
  const auto body = nlohmann::json::parse(llm::completion_body(r));
  const nlohmann::json want = {{"model", "llama3.2"},
                               {"messages",
                                {{{"role", "system"}, {"content", r.messages[0].content}},
                                 {{"role", "user"}, {"content", r.messages[1].content}}}},
                               {"stream", true},
                               {"temperature", 0.3},
                               {"max_tokens", 2048},
                               {"stream_options", {{"include_usage", true}}}};
  EXPECT_EQ(body, want);
  EXPECT_EQ(llm::completion_body(r), want.dump()) << "the same bytes as before";
  r.stream_usage = false;
  EXPECT_FALSE(nlohmann::json::parse(llm::completion_body(r)).contains("stream_options"));

  // A caller's stop sequences and end user (the OpenAI face) go upstream.
  r.stop = {"END", "\"q\""};
  r.user = "u-42";
  const auto with = nlohmann::json::parse(llm::completion_body(r));
  EXPECT_EQ(with["stop"], nlohmann::json::parse(R"(["END", "\"q\""])"));
  EXPECT_EQ(with["user"], "u-42");
}

TEST(JsonString, SourcesAreTheSameBytesAsBefore) {
  search::SearchItem a{"Sidechain \"ducking\"",
                       "sidechain",
                       "Kara Lindqvist",
                       "mixing",
                       "Duck the bass\nunder the kick",
                       "",
                       ""};
  search::SearchItem b{"Reverb", "reverb", "Ana", "fx", "Short", "pre-delay", "Pre-delay"};
  nlohmann::json want = nlohmann::json::array();
  int n = 0;
  for (const auto& i : {a, b}) {
    want.push_back({{"number", ++n},
                    {"title", i.title},
                    {"slug", i.slug},
                    {"creator_name", i.creator_name},
                    {"topic_category", i.topic_category},
                    {"summary", i.summary},
                    {"section_anchor", i.section_anchor},
                    {"section_heading", i.section_heading}});
  }
  EXPECT_EQ(chat::sources_json({a, b}), want.dump());
  EXPECT_EQ(chat::sources_json({}), "[]");
}

}  // namespace
}  // namespace chrysopedia

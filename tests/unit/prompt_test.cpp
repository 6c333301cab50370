#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "chat/chat_request.hpp"
#include "chat/chat_service.hpp"
#include "chat/offline_answerer.hpp"
#include "chat/prompt.hpp"

using namespace chrysopedia;
using chrysopedia::search::SearchItem;

namespace {

SearchItem page(std::string title, std::string creator, std::string summary) {
  return {std::move(title), "slug", std::move(creator), "mixing", std::move(summary), "", ""};
}

}  // namespace

TEST(Prompt, SystemMessageIsExactlyTheSpecs) {
  std::vector<SearchItem> items = {
      page("Sidechain compression for bass", "Kara Lindqvist", "Duck the bass."),
      {"Layering kicks", "kick-layering", "", "drums", "Align the transients.", "phase",
       "Phase alignment"},
      page("No summary here", "Mo", "")};
  EXPECT_EQ(chat::system_prompt(items),
            "You are Chrysopedia, an expert encyclopedic assistant for music production "
            "techniques.\n"
            "Answer the user's question using ONLY the numbered sources below.\n"
            "Cite sources by writing [N] inline (e.g. [1], [2]) where N is the source number.\n"
            "If the sources do not contain enough information, say so honestly — do not invent "
            "facts.\n"
            "\n"
            "Sources:\n"
            "[1] Sidechain compression for bass by Kara Lindqvist\n"
            "  Duck the bass.\n"
            "\n"
            "[2] Layering kicks — Phase alignment\n"
            "  Align the transients.\n"
            "\n"
            "[3] No summary here by Mo\n"
            "\n");
  EXPECT_EQ(chat::system_prompt({}).substr(chat::system_prompt({}).find("Sources:")),
            "Sources:\n(No sources available)\n");
}

TEST(Prompt, MessagesAreSystemThenHistoryThenTheQuestion) {
  const auto messages =
      chat::build_messages({}, {{"user", "first"}, {"assistant", "answer"}}, "second");
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0].role, "system");
  EXPECT_EQ(messages[1].content, "first");
  EXPECT_EQ(messages[2].role, "assistant");
  EXPECT_EQ(messages[3].role, "user");
  EXPECT_EQ(messages[3].content, "second");
}

TEST(Prompt, LongSummariesAreCutAtAWordBoundaryWithAnEllipsis) {
  std::string longtext;
  while (longtext.size() < 3000) longtext += "compression ratio ";
  const auto block = chat::context_block({page("T", "", longtext)});
  const auto summary = block.substr(block.find("  ") + 2);
  EXPECT_LE(summary.size(), 1200u + 4);
  EXPECT_EQ(summary.substr(summary.size() - 4), "…\n");
  EXPECT_EQ(summary.find("compression ratio compression"), 0u);
  const std::string cut = summary.substr(0, summary.size() - 4);
  EXPECT_TRUE(cut.substr(cut.size() - 5) == "ratio" || cut.substr(cut.size() - 11) == "compression")
      << "ends on a whole word";
  EXPECT_EQ(chat::clip_at_word("short text", 1200), "short text");
}

TEST(Prompt, SourcesCarryTheSpecsFieldsAndA200CharacterSummary) {
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "é";
  const auto json = nlohmann::json::parse(chat::sources_json(
      {page("A", "C", accents), {"B", "b-slug", "D", "drums", "text", "anchor", "Heading"}}));
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["number"], 1);
  EXPECT_EQ(json[0]["summary"].get<std::string>().size(), 400u) << "200 two-byte characters";
  EXPECT_EQ(json[1]["number"], 2);
  EXPECT_EQ(json[1]["slug"], "b-slug");
  EXPECT_EQ(json[1]["section_anchor"], "anchor");
  EXPECT_EQ(json[1]["section_heading"], "Heading");
  EXPECT_EQ(json[0]["section_heading"], "");
  EXPECT_EQ(chat::sources_json({}), "[]");
}

TEST(ChatRequest, ValidatesEachField) {
  auto ok = chat::parse_chat_request(
      "application/json; charset=utf-8",
      R"({"query": "  how?  ", "creator": null, "conversation_id": "abc-1"})");
  ASSERT_TRUE(std::holds_alternative<chat::ChatRequest>(ok));
  const auto& r = std::get<chat::ChatRequest>(ok);
  EXPECT_EQ(r.query, "how?");
  EXPECT_FALSE(r.creator);
  EXPECT_EQ(r.conversation_id, "abc-1");
  auto err = [](std::optional<std::string_view> type, std::string_view body) {
    auto v = chat::parse_chat_request(type, body);
    return std::get<chat::ChatRequestError>(v);
  };
  EXPECT_EQ(err(std::nullopt, "{}").status, 415);
  EXPECT_EQ(err("text/plain", "{}").status, 415);
  EXPECT_EQ(err("application/json", "").code, "invalid_json");
  EXPECT_EQ(err("application/json", R"({"query": ""})").status, 400);
  EXPECT_NE(err("application/json", R"({"query": "x", "conversation_id": "a/b"})")
                .message.find("conversation_id"),
            std::string::npos);
}

// Found by fuzz/chat_request_fuzzer: nlohmann reports a number too large for
// a double as out_of_range, not parse_error, and it escaped as a 500.
TEST(ChatRequest, ANumberTooLargeIsBadJsonNotAnException) {
  for (const char* body :
       {R"({"query": "x", "n": 1e30883})", R"({"query": "x", "n": -1e999})", R"([1e400])"}) {
    std::variant<chat::ChatRequest, chat::ChatRequestError> v;
    ASSERT_NO_THROW(v = chat::parse_chat_request("application/json", body)) << body;
    ASSERT_TRUE(std::holds_alternative<chat::ChatRequestError>(v)) << body;
    const auto& e = std::get<chat::ChatRequestError>(v);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "invalid_json");
    EXPECT_EQ(e.message.find("[json.exception"), std::string::npos) << e.message;
  }
}

TEST(OfflineAnswerer, CitesTheSentencesThatMatch) {
  const std::vector<SearchItem> items = {
      page("Sidechain", "K",
           "Kick and bass share the low end. A sidechained compressor ducks the bass when the kick "
           "hits. Unrelated sentence about guitars here."),
      page("Tuning", "D", "Tune the kick to the key of the bassline so they do not clash.")};
  const auto answer = chat::offline_answer("how do I duck the bass when the kick hits?", items);
  EXPECT_NE(answer.find("ducks the bass when the kick hits. [1]"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("guitars"), std::string::npos);
  EXPECT_EQ(answer, chat::offline_answer("how do I duck the bass when the kick hits?", items));
  EXPECT_NE(chat::offline_answer("zzqx", items).find("couldn't find"), std::string::npos);
  EXPECT_NE(chat::offline_answer("kick", {}).find("couldn't find"), std::string::npos);
}

TEST(Uuid, IsARandomVersion4Uuid) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  const auto a = chat::make_uuid4();
  EXPECT_TRUE(std::regex_match(a, shape)) << a;
  EXPECT_NE(a, chat::make_uuid4());
  EXPECT_TRUE(chat::valid_conversation_id(a));
}

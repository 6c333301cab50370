// POST /v1/chat/completions bodies as SPEC §10 takes them, and the
// OpenAI-shaped errors for those it refuses.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "openai/completion_request.hpp"

using namespace chrysopedia;
using nlohmann::json;
using openai::CompletionAsk;
using openai::OpenAiError;

namespace {

const std::string_view kJson = "application/json";

CompletionAsk ok(const json& body) {
  auto r = openai::parse_completion_request(kJson, body.dump());
  if (auto* e = std::get_if<OpenAiError>(&r)) {
    ADD_FAILURE() << e->body();
    return {};
  }
  return std::get<CompletionAsk>(std::move(r));
}

OpenAiError refused(const json& body, std::string_view content_type = kJson) {
  auto r = openai::parse_completion_request(
      content_type, body.is_string() ? body.get<std::string>() : body.dump());
  if (auto* e = std::get_if<OpenAiError>(&r)) return *e;
  ADD_FAILURE() << "taken: " << body.dump();
  return {};
}

json with_messages(json messages) {
  return {{"model", "chrysopedia"}, {"messages", std::move(messages)}};
}

}  // namespace

TEST(CompletionRequest, TheLastUserMessageIsTheQuestionAndTheRestItsContext) {
  const auto ask = ok({{"model", "chrysopedia"},
                       {"messages",
                        {{{"role", "system"}, {"content", "Answer briefly."}},
                         {{"role", "user"}, {"content", "how do I design a pluck?"}},
                         {{"role", "assistant"}, {"content", "Short decay [1]."}},
                         {{"role", "developer"}, {"content", "Cite sources."}},
                         {{"role", "user"},
                          {"content",
                           {{{"type", "text"}, {"text", "  and a softer one"}},
                            {{"type", "text"}, {"text", "for the breakdown?  "}}}}}}},
                       {"stream", true},
                       {"stream_options", {{"include_usage", true}}},
                       {"temperature", 0.2},
                       {"max_completion_tokens", 300},
                       {"stop", {"\n\n"}},
                       {"user", "u-1"},
                       {"creator", "kara"}});
  EXPECT_EQ(ask.question, "and a softer one\nfor the breakdown?");
  ASSERT_EQ(ask.history.size(), 2u);
  EXPECT_EQ(ask.history[0], (history::Message{"user", "how do I design a pluck?"}));
  EXPECT_EQ(ask.history[1], (history::Message{"assistant", "Short decay [1]."}));
  EXPECT_EQ(ask.system, (std::vector<std::string>{"Answer briefly.", "Cite sources."}));
  EXPECT_TRUE(ask.stream);
  EXPECT_TRUE(ask.include_usage);
  EXPECT_EQ(ask.temperature, 0.2);
  EXPECT_EQ(ask.max_tokens, 300);
  EXPECT_EQ(ask.stop, (std::vector<std::string>{"\n\n"}));
  EXPECT_EQ(ask.user, "u-1");
  EXPECT_EQ(ask.creator, "kara");
}

TEST(CompletionRequest, DefaultsWhenOnlyTheQuestionIsGiven) {
  const auto ask = ok(with_messages({{{"role", "user"}, {"content", "what is a sidechain?"}}}));
  EXPECT_EQ(ask.question, "what is a sidechain?");
  EXPECT_TRUE(ask.history.empty());
  EXPECT_FALSE(ask.stream);
  EXPECT_FALSE(ask.include_usage);
  EXPECT_FALSE(ask.temperature);
  EXPECT_FALSE(ask.max_tokens);
  EXPECT_FALSE(ask.creator);
}

TEST(CompletionRequest, AModelWeDoNotHaveIs404AndNoModelIs400) {
  auto e = refused({{"model", "gpt-4o"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}});
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.code, "model_not_found");
  EXPECT_EQ(e.param, "model");
  e = refused({{"messages", {{{"role", "user"}, {"content", "x"}}}}});
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "model");
  EXPECT_EQ(json::parse(e.body()),
            json::parse(R"({"error": {"message": "'model' is required: this server's model is )"
                        R"('chrysopedia'.", "type": "invalid_request_error", "param": "model",)"
                        R"( "code": null}})"));
}

TEST(CompletionRequest, EachBadBodyNamesItsField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {"{not json", ""},
      {"2e111112", ""},  // a number past a double's range (found by the fuzzer)
      {json::array(), ""},
      {with_messages(json::array()), "messages"},
      {with_messages({{{"role", "assistant"}, {"content", "hi"}}}), "messages"},
      {with_messages({{{"role", "tool"}, {"content", "42"}}}), "messages[0].role"},
      {with_messages({{{"role", "function"}, {"content", "42"}}}), "messages[0].role"},
      {with_messages({{{"role", "critic"}, {"content", "x"}}}), "messages[0].role"},
      {with_messages({{{"role", "user"}}}), "messages[0].content"},
      {with_messages({{{"role", "user"},
                       {"content", {{{"type", "image_url"}, {"image_url", {{"url", "x"}}}}}}}}),
       "messages[0].content[0]"},
      {with_messages({{{"role", "user"}, {"content", "   "}}}), "messages"},
      {with_messages({{{"role", "user"}, {"content", std::string(2001, 'a')}}}), "messages"},
      {with_messages({{{"role", "user"}, {"content", "a\x1b[31m"}}}), "messages"},
  };
  for (const auto& [body, param] : cases) {
    const auto e = refused(body);
    EXPECT_EQ(e.status, 400) << body.dump();
    EXPECT_EQ(e.param, param) << body.dump();
    EXPECT_FALSE(e.message.empty());
  }
  auto options = with_messages({{{"role", "user"}, {"content", "x"}}});
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, json>>{{"stream", "yes"},
                                                 {"temperature", 3},
                                                 {"max_tokens", 0},
                                                 {"stop", {"a", "b", "c", "d", "e"}},
                                                 {"stream_options", {{"include_usage", 1}}},
                                                 {"user", 7},
                                                 {"creator", 7}}) {
    auto body = options;
    body[field] = value;
    EXPECT_EQ(refused(body).param, field) << body.dump();
  }
}

TEST(CompletionRequest, OnlyJsonIsTaken) {
  const auto e = refused(with_messages({{{"role", "user"}, {"content", "x"}}}), "text/plain");
  EXPECT_EQ(e.status, 415);
  EXPECT_EQ(e.code, "unsupported_media_type");
}

// The OpenAI-compatible face (SPEC §10) over the same chat pipeline as
// /api/v1/chat, against fakes of its peers: the wire format of both
// encoders, what reaches the model, and each error where SPEC puts it.
#include <gtest/gtest.h>

#include <set>

#include "chat_rig.hpp"
#include "openai/completions_route.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
using nlohmann::json;

namespace {

struct OpenAiRig : Rig {
  openai::CompletionsRoute route{service, "/techniques/{slug}#{anchor}"};

  std::unique_ptr<Outcome> complete(const json& body, std::optional<std::size_t> gone_after = {}) {
    return run(
        "/v1/chat/completions", body, [this](http::Exchange& ex) { return route.complete(ex); },
        gone_after);
  }
};

json ask(const std::string& question, bool stream) {
  return {{"model", "chrysopedia"},
          {"stream", stream},
          {"messages", json::array({{{"role", "user"}, {"content", question}}})}};
}

// Every event's data as JSON ("[DONE]" as a string).
std::vector<json> chunks(const FakeExchange& ex) {
  std::vector<json> out;
  for (const auto& e : ex.events) {
    EXPECT_EQ(e.name, "") << "OpenAI's streams have no event names";
    out.push_back(e.data == "[DONE]" ? json("[DONE]") : json::parse(e.data));
  }
  return out;
}

std::string content_of(const std::vector<json>& cs) {
  std::string text;
  for (const auto& c : cs) {
    if (c.is_object() && c.contains("choices") && !c["choices"].empty()) {
      const auto& delta = c["choices"][0]["delta"];
      if (delta.contains("content")) text += delta["content"].get<std::string>();
    }
  }
  return text;
}

}  // namespace

TEST(Completions, StreamsRoleContentLastChunkUsageAndDone) {
  OpenAiRig rig;
  rig.search.result.items[1].section_anchor = "mud";
  json body = ask("how do I sidechain a bass?", true);
  body["stream_options"] = {{"include_usage", true}};
  const auto out = rig.complete(body);
  ASSERT_FALSE(out->error);
  ASSERT_TRUE(out->ex.stream_opened);
  const auto cs = chunks(out->ex);
  ASSERT_EQ(cs.size(), 1u + 3u + 1u + 1u + 1u);  // role, 3 deltas, last, usage, [DONE]

  // One id and created everywhere; the role first with empty content.
  std::set<std::string> ids;
  for (std::size_t i = 0; i + 1 < cs.size(); ++i) {
    EXPECT_EQ(cs[i]["object"], "chat.completion.chunk");
    EXPECT_EQ(cs[i]["model"], "chrysopedia");
    EXPECT_TRUE(cs[i]["system_fingerprint"].is_null());
    EXPECT_EQ(cs[i]["created"], cs[0]["created"]);
    ids.insert(cs[i]["id"].get<std::string>());
  }
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids.begin()->rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(cs[0]["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_TRUE(cs[0]["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(content_of(cs), "An answer [1].");

  const auto& last = cs[4];
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["citations"],
            json::parse(R"(["/techniques/sidechain-bass", "/techniques/kick-eq#mud"])"));
  ASSERT_EQ(last["sources"].size(), 2u);
  EXPECT_EQ(last["sources"][1]["number"], 2);
  EXPECT_EQ(last["sources"][1]["section_anchor"], "mud");

  EXPECT_EQ(cs[5]["choices"], json::array());
  EXPECT_EQ(cs[5]["usage"],
            json::parse(R"({"prompt_tokens":120,"completion_tokens":3,"total_tokens":123})"));
  EXPECT_EQ(cs[6], "[DONE]");
}

TEST(Completions, TheUsageChunkComesOnlyWhenAskedForAndIsNullWhenTheModelGaveNone) {
  OpenAiRig rig;
  auto out = rig.complete(ask("bass", true));
  auto cs = chunks(out->ex);
  EXPECT_EQ(cs.size(), 1u + 3u + 1u + 1u) << "no usage chunk";
  EXPECT_EQ(cs.back(), "[DONE]");

  rig.llm.usage.reset();
  json body = ask("bass", true);
  body["stream_options"] = {{"include_usage", true}};
  out = rig.complete(body);
  cs = chunks(out->ex);
  ASSERT_GE(cs.size(), 2u);
  EXPECT_TRUE(cs[cs.size() - 2]["usage"].is_null());
}

TEST(Completions, TheWholeAnswerHasAUrlCitationPerNumberPerMarkerInCodePoints) {
  OpenAiRig rig;
  // "é" is two bytes and one code point; [12] names no source; [1, 2] is
  // one span and two annotations; `[1]` in code is no citation.
  rig.llm.deltas = {"Café: duck it [2", "] under the kick [1, 2]; `v[1]` [12]."};
  const auto out = rig.complete(ask("bass", false));
  ASSERT_TRUE(out->ex.response);
  EXPECT_FALSE(out->ex.stream_opened);
  EXPECT_EQ(out->ex.response->status, 200);
  const auto c = json::parse(out->ex.response->body);
  EXPECT_EQ(c["object"], "chat.completion");
  EXPECT_EQ(c["model"], "chrysopedia");
  const auto& message = c["choices"][0]["message"];
  const std::string text = "Café: duck it [2] under the kick [1, 2]; `v[1]` [12].";
  EXPECT_EQ(message["role"], "assistant");
  EXPECT_EQ(message["content"], text);
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(c["usage"]["total_tokens"], 123);
  EXPECT_EQ(c["citations"].size(), 2u);
  // Code points: "Café: duck it " is 14 (15 bytes).
  EXPECT_EQ(message["annotations"], json::parse(R"([
    {"type": "url_citation", "url_citation": {"url": "/techniques/kick-eq",
      "title": "Title of kick-eq", "start_index": 14, "end_index": 17}},
    {"type": "url_citation", "url_citation": {"url": "/techniques/sidechain-bass",
      "title": "Title of sidechain-bass", "start_index": 33, "end_index": 39}},
    {"type": "url_citation", "url_citation": {"url": "/techniques/kick-eq",
      "title": "Title of kick-eq", "start_index": 33, "end_index": 39}}])"));
}

TEST(Completions, TheConversationAndTheCallersSystemMessagesReachTheModelInOrder) {
  OpenAiRig rig;
  const json body = {{"model", "chrysopedia"},
                     {"temperature", 0.9},
                     {"max_tokens", 77},
                     {"stop", "END"},
                     {"user", "u-42"},
                     {"creator", "Kara"},
                     {"messages", json::parse(R"([
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "how do I design a pluck?"},
        {"role": "assistant", "content": "Short decay [1]."},
        {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": "and a softer one?"}])")}};
  const auto out = rig.complete(body);
  ASSERT_TRUE(out->ex.response);
  EXPECT_EQ(out->ex.response->status, 200);
  ASSERT_EQ(rig.llm.requests.size(), 1u);
  const auto& r = rig.llm.requests[0];
  ASSERT_EQ(r.messages.size(), 6u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_NE(r.messages[0].content.find("Duck the bass"), std::string::npos) << "ours first";
  EXPECT_EQ(r.messages[1].content, "Answer in French.");
  EXPECT_EQ(r.messages[2].content, "Be brief.");
  EXPECT_EQ(r.messages[2].role, "system");
  EXPECT_EQ(r.messages[3].content, "how do I design a pluck?");
  EXPECT_EQ(r.messages[4].role, "assistant");
  EXPECT_EQ(r.messages[5].content, "and a softer one?");
  EXPECT_EQ(r.temperature, 0.9);
  EXPECT_EQ(r.max_tokens, 77);
  EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r.user, "u-42");
  // The search saw the follow-up in the light of the question before it.
  ASSERT_EQ(rig.search.asked.size(), 1u);
  EXPECT_EQ(rig.search.asked[0].query, "and a softer one?");
  EXPECT_EQ(rig.search.asked[0].context, std::vector<std::string>{"how do I design a pluck?"});
  EXPECT_EQ(rig.search.asked[0].creator, "Kara");
  // Nothing of it is remembered.
  EXPECT_TRUE(rig.history.conversations.empty());
}

TEST(Completions, AFailedSearchIsA503BeforeAnyByteStreamingOrNot) {
  for (const bool stream : {true, false}) {
    OpenAiRig rig;
    rig.search.fail = true;
    const auto out = rig.complete(ask("bass", stream));
    ASSERT_TRUE(out->ex.response) << stream;
    EXPECT_FALSE(out->ex.stream_opened);
    EXPECT_EQ(out->ex.response->status, 503);
    const auto error = json::parse(out->ex.response->body)["error"];
    EXPECT_EQ(error["type"], "server_error");
    EXPECT_EQ(error["code"], "search_unavailable");
    EXPECT_TRUE(error.contains("param"));
    EXPECT_TRUE(rig.llm.requests.empty());
  }
}

TEST(Completions, AModelThatFailsEndsTheStreamWithAnErrorChunkNeverDone) {
  for (const std::size_t after : {0u, 2u}) {
    OpenAiRig rig;
    rig.llm.fail_after = after;
    const auto out = rig.complete(ask("bass", true));
    const auto cs = chunks(out->ex);
    ASSERT_EQ(cs.size(), 1u + after + 1u);
    EXPECT_EQ(cs.back()["error"]["code"], "llm_failed");
    EXPECT_EQ(cs.back()["error"]["type"], "server_error");
    for (const auto& c : cs) EXPECT_NE(c, "[DONE]");
  }
  OpenAiRig rig;
  rig.llm.fail_after = 1;
  const auto out = rig.complete(ask("bass", false));
  ASSERT_TRUE(out->ex.response);
  EXPECT_EQ(out->ex.response->status, 502);
  EXPECT_EQ(json::parse(out->ex.response->body)["error"]["code"], "llm_failed");
}

TEST(Completions, BadBodiesAreOpenAiErrorsNamingTheField) {
  OpenAiRig rig;
  auto out = rig.complete({{"messages", json::array()}});
  ASSERT_TRUE(out->ex.response);
  EXPECT_EQ(out->ex.response->status, 400);
  EXPECT_EQ(json::parse(out->ex.response->body)["error"]["param"], "model");
  out = rig.complete({{"model", "gpt-4o"}, {"messages", json::array()}});
  EXPECT_EQ(out->ex.response->status, 404);
  EXPECT_EQ(json::parse(out->ex.response->body)["error"]["code"], "model_not_found");
  json image = ask("bass", false);
  image["messages"][0]["content"] = json::parse(R"([{"type": "image_url", "image_url": {}}])");
  out = rig.complete(image);
  EXPECT_EQ(out->ex.response->status, 400);
  EXPECT_EQ(json::parse(out->ex.response->body)["error"]["param"], "messages[0].content[0]");
  EXPECT_TRUE(rig.search.asked.empty());
}

TEST(Completions, BothFacesRelayTheSameAnswerFromTheSamePipeline) {
  OpenAiRig rig;
  rig.llm.deltas = {"Line one [1]\r\n", "\nline two", " [2]."};
  const auto native = rig.chat({{"query", "bass"}});
  const auto streamed = rig.complete(ask("bass", true));
  const auto whole = rig.complete(ask("bass", false));
  std::string native_text;
  for (const auto& e : native->ex.events) {
    if (e.name == "token") native_text += e.data;
  }
  EXPECT_EQ(native_text, "Line one [1]\r\n\nline two [2].");
  EXPECT_EQ(content_of(chunks(streamed->ex)), native_text);
  EXPECT_EQ(json::parse(whole->ex.response->body)["choices"][0]["message"]["content"],
            "Line one [1]\r\n\nline two [2].");
  EXPECT_EQ(json::parse(data_of(native->ex, "sources").dump()), chunks(streamed->ex)[4]["sources"]);
  EXPECT_EQ(rig.llm.requests[0].messages[0].content, rig.llm.requests[1].messages[0].content);
}

TEST(Completions, AClientGoneMidStreamEndsIt) {
  OpenAiRig rig;
  const auto out = rig.complete(ask("bass", true), 2);
  EXPECT_TRUE(out->error);
  EXPECT_EQ(out->ex.events.size(), 2u);
}

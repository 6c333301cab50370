// ChatService through every path of SPEC §1 against fakes of its peers: no
// process, no socket, no database; each test runs in a millisecond or two.
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>

#include "chat_rig.hpp"
#include "chrysopedia/observability/metrics.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
using nlohmann::json;

TEST(ChatService, StreamsSourcesTokensAndDone) {
  Rig rig;
  const auto out = rig.chat({{"query", "how do I sidechain a bass?"}});
  ASSERT_FALSE(out->error);
  EXPECT_TRUE(out->ex.stream_opened);
  EXPECT_EQ(out->ex.names(),
            (std::vector<std::string>{"sources", "token", "token", "token", "done"}));
  const auto sources = data_of(out->ex, "sources");
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0]["number"], 1);
  EXPECT_EQ(sources[0]["slug"], "sidechain-bass");
  EXPECT_EQ(sources[1]["number"], 2);
  EXPECT_EQ(tokens_of(out->ex), "An answer [1].");
  const auto done = data_of(out->ex, "done");
  EXPECT_EQ(done["cascade_tier"], "global");
  EXPECT_EQ(done["usage"]["prompt_tokens"], 120);
  EXPECT_EQ(done["usage"]["completion_tokens"], 3);
  EXPECT_TRUE(done.contains("latency_ms"));
  EXPECT_EQ(done["conversation_id"].get<std::string>().size(), 36u) << "a new UUID";
  // The model saw the sources, numbered, and the question.
  ASSERT_EQ(rig.llm.requests.size(), 1u);
  const auto& messages = rig.llm.requests[0].messages;
  EXPECT_NE(messages.front().content.find("Duck the bass under the kick."), std::string::npos);
  EXPECT_EQ(messages.back().role, "user");
  EXPECT_NE(messages.back().content.find("how do I sidechain a bass?"), std::string::npos);
  EXPECT_EQ(rig.search.asked.at(0).query, "how do I sidechain a bass?");
}

TEST(ChatService, TheModelIsAskedBeforeTheSourcesAreWritten) {
  // The model's first token is what the user waits for: its request goes
  // out first, and the sources are written while the model reads it.
  Rig rig;
  std::optional<std::vector<std::string>> written_at_start;
  const auto out =
      rig.run("/api/v1/chat", {{"query", "how do I sidechain a bass?"}}, [&](http::Exchange& ex) {
        rig.llm.on_start = [&written_at_start, &ex] {
          written_at_start = static_cast<FakeExchange&>(ex).names();
        };
        return rig.service.chat(ex);
      });
  ASSERT_FALSE(out->error);
  ASSERT_TRUE(written_at_start);
  EXPECT_TRUE(written_at_start->empty()) << "nothing written before the model was asked";
  EXPECT_EQ(out->ex.names(),
            (std::vector<std::string>{"sources", "token", "token", "token", "done"}))
      << "and the client still gets the sources first";
}

TEST(ChatService, TheSearchIsAskedBeforeTheStreamOpens) {
  // At one user each peer has slept since the last chat and is slow to
  // wake: the search's job is on its way before the headers are written,
  // not after.
  Rig rig;
  std::optional<std::size_t> searches_at_open;
  const auto out =
      rig.run("/api/v1/chat", {{"query", "how do I sidechain a bass?"}}, [&](http::Exchange& ex) {
        static_cast<FakeExchange&>(ex).on_open = [&searches_at_open, &rig] {
          searches_at_open = rig.search.asked.size();
        };
        return rig.service.chat(ex);
      });
  ASSERT_FALSE(out->error);
  ASSERT_TRUE(searches_at_open);
  EXPECT_EQ(*searches_at_open, 1u) << "the search was asked before the stream opened";
  EXPECT_EQ(out->ex.names(),
            (std::vector<std::string>{"sources", "token", "token", "token", "done"}));
}

TEST(ChatService, DoneNamesTheSourcesTheAnswerCitedAndTheNumbersThatNameNone) {
  Rig rig;
  rig.llm.deltas = {"Duck it [2", "] under the kick [1, 2]; see [12] and `v[1]` ", "[0]."};
  auto& metrics = observability::service_metrics();
  const auto valid_before = metrics.citations.value();
  const auto invalid_before = metrics.invalid_citations.value();
  const auto out = rig.chat({{"query", "bass"}});
  EXPECT_EQ(metrics.citations.value() - valid_before, 2u);
  EXPECT_EQ(metrics.invalid_citations.value() - invalid_before, 2u);
  const auto done = data_of(out->ex, "done");
  EXPECT_EQ(done["citations"], json::parse(R"([{"number":2,"slug":"kick-eq","section_anchor":""},
                            {"number":1,"slug":"sidechain-bass","section_anchor":""}])"));
  EXPECT_EQ(done["invalid_citations"], json::parse("[12, 0]"));

  rig.llm.deltas = {"Nothing cited."};
  const auto none = data_of(rig.chat({{"query", "bass"}})->ex, "done");
  EXPECT_EQ(none["citations"], json::array());
  EXPECT_EQ(none["invalid_citations"], json::array());
}

TEST(ChatService, DoneNamesEachCitedSectionByItsPageAndAnchor) {
  // The face keeps each source's slug and anchor (packed, for as long as
  // the answer streams): the last, the first and a middle one, each right.
  Rig rig;
  auto section = [](const std::string& slug, const std::string& anchor) {
    auto i = item(slug, "text of " + anchor);
    i.section_anchor = anchor;
    i.section_heading = "Heading " + anchor;
    return i;
  };
  rig.search.result.items = {section("a-page-whose-slug-is-longer-than-inline-strings", "why-duck"),
                             item("kick-eq", "A page, no section."), section("mix-bus", ""),
                             section("reverb-sends", "pre-delay")};
  rig.llm.deltas = {"See [4], then [1] and [2]."};
  const auto done = data_of(rig.chat({{"query", "bass"}})->ex, "done");
  EXPECT_EQ(done["citations"], json::parse(R"([
      {"number":4,"slug":"reverb-sends","section_anchor":"pre-delay"},
      {"number":1,"slug":"a-page-whose-slug-is-longer-than-inline-strings","section_anchor":"why-duck"},
      {"number":2,"slug":"kick-eq","section_anchor":""}])"));
}

TEST(ChatService, NothingFoundIsAnEmptySourcesArrayAndStillAnAnswer) {
  Rig rig;
  rig.search.result = {{}, "none", ""};
  const auto out = rig.chat({{"query", "qxzv"}});
  EXPECT_EQ(out->ex.events.front().name, "sources");
  EXPECT_EQ(out->ex.events.front().data, "[]");
  EXPECT_EQ(data_of(out->ex, "done")["cascade_tier"], "none");
}

TEST(ChatService, ACreatorGoesToTheSearch) {
  Rig rig;
  rig.chat({{"query", "bass"}, {"creator", "Mr-Bill"}});
  ASSERT_EQ(rig.search.asked.size(), 1u);
  EXPECT_EQ(rig.search.asked[0].creator, "Mr-Bill");
  EXPECT_EQ(rig.search.asked[0].limit, rig.settings.chat_max_context_sources);
}

TEST(ChatService, BadRequestsAreAnsweredBeforeAnyStream) {
  struct Case {
    std::string body;
    std::string content_type;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"{not json", "application/json", 400, "invalid_json"},
      {R"({"creator": "x"})", "application/json", 400, "missing_field"},
      {R"({"query": "   "})", "application/json", 400, "invalid_field"},
      {R"({"query": 7})", "application/json", 400, "invalid_field"},
      {R"({"query": "a", "conversation_id": "not/ok"})", "application/json", 400, "invalid_field"},
      {R"({"query": "a"})", "text/plain", 415, "unsupported_media_type"},
  };
  for (const auto& c : cases) {
    Rig rig;
    const auto out = rig.chat(json(c.body), std::nullopt, c.content_type);
    ASSERT_TRUE(out->ex.response) << c.body;
    EXPECT_FALSE(out->ex.stream_opened) << c.body;
    EXPECT_EQ(out->ex.response->status, c.status) << c.body;
    EXPECT_EQ(json::parse(out->ex.response->body)["error"]["code"], c.code) << c.body;
    EXPECT_TRUE(rig.search.asked.empty()) << c.body;
  }
}

TEST(ChatService, AFailedSearchIsAnErrorEventAndNothingElse) {
  Rig rig;
  rig.search.fail = true;
  const auto out = rig.chat({{"query", "bass"}});
  ASSERT_FALSE(out->error);
  EXPECT_EQ(out->ex.names(), (std::vector<std::string>{"error"}));
  EXPECT_EQ(data_of(out->ex, "error")["message"], "Search failed");
  EXPECT_TRUE(rig.llm.requests.empty());
  EXPECT_EQ(rig.history.appends, 0);
}

TEST(ChatService, AFailedModelIsAnErrorEventAfterTheTokensSoFarAndNothingIsSaved) {
  Rig rig;
  rig.llm.fail_after = 2;
  const auto out = rig.chat({{"query", "bass"}});
  ASSERT_FALSE(out->error);
  EXPECT_EQ(out->ex.names(), (std::vector<std::string>{"sources", "token", "token", "error"}));
  EXPECT_EQ(data_of(out->ex, "error")["message"], "LLM generation failed");
  EXPECT_EQ(rig.history.appends, 0);
}

TEST(ChatService, WithoutAModelTheOfflineAnswerCitesTheSources) {
  Rig rig;
  rig.model = false;
  const auto out = rig.chat({{"query", "how do I duck the bass under the kick"}});
  ASSERT_FALSE(out->error);
  EXPECT_EQ(out->ex.names().back(), "done");
  EXPECT_NE(tokens_of(out->ex).find("[1]"), std::string::npos) << tokens_of(out->ex);
  EXPECT_FALSE(data_of(out->ex, "done").contains("usage"));
}

TEST(ChatService, AConversationIsRememberedAndItsHistoryReachesTheModel) {
  Rig rig;
  const auto first = rig.chat({{"query", "how do I sidechain a bass?"}});
  const std::string cid = data_of(first->ex, "done")["conversation_id"];
  ASSERT_EQ(rig.history.conversations.at(cid).size(), 2u);
  EXPECT_EQ(rig.history.conversations.at(cid)[1].content, "An answer [1].");

  const auto second = rig.chat({{"query", "and for the snare?"}, {"conversation_id", cid}});
  EXPECT_EQ(data_of(second->ex, "done")["conversation_id"], cid);
  EXPECT_EQ(rig.history.conversations.at(cid).size(), 4u);
  // The earlier question is the follow-up's context, and the model sees
  // the earlier turn.
  ASSERT_EQ(rig.search.asked.size(), 2u);
  EXPECT_EQ(rig.search.asked[1].context, (std::vector<std::string>{"how do I sidechain a bass?"}));
  const auto& messages = rig.llm.requests.at(1).messages;
  ASSERT_GE(messages.size(), 4u);
  EXPECT_EQ(messages[messages.size() - 3].content, "how do I sidechain a bass?");
  EXPECT_EQ(messages[messages.size() - 2].content, "An answer [1].");
}

TEST(ChatService, WithoutMemoryAChatStillStreamsAndNothingIsKept) {
  Rig rig;
  rig.memory = false;
  const auto out = rig.chat({{"query", "bass"}, {"conversation_id", "abc"}});
  EXPECT_EQ(out->ex.names().back(), "done");
  EXPECT_TRUE(rig.history.conversations.empty());

  // Reading a conversation says memory is off; deleting one finds nothing.
  FakeExchange get;
  get.req.params["id"] = "abc";
  FakeExchange del;
  del.req.params["id"] = "abc";
  net::io_context ctx;
  net::co_spawn(ctx, rig.service.get_conversation(get), net::detached);
  net::co_spawn(ctx, rig.service.delete_conversation(del), net::detached);
  ctx.run();
  ASSERT_TRUE(get.response && del.response);
  EXPECT_EQ(get.response->status, 503);
  EXPECT_EQ(json::parse(get.response->body)["error"]["code"], "memory_disabled");
  EXPECT_EQ(del.response->status, 204);
}

TEST(ChatService, AFailingMemoryStoreNeverFailsTheChat) {
  Rig rig;
  rig.history.fail_load = true;
  rig.history.fail_save = true;
  const auto out = rig.chat({{"query", "bass"}, {"conversation_id", "abc"}});
  ASSERT_FALSE(out->error);
  EXPECT_EQ(out->ex.names().back(), "done");
  EXPECT_EQ(data_of(out->ex, "done")["conversation_id"], "abc");
}

TEST(ChatService, WhenOnlyServerIdsAreTakenAnUnknownOrUnverifiableIdIsRefused) {
  Rig rig;
  rig.settings.chat_client_conversation_ids = false;
  auto out = rig.chat({{"query", "bass"}, {"conversation_id", "made-up"}});
  ASSERT_TRUE(out->ex.response);
  EXPECT_EQ(out->ex.response->status, 400);
  EXPECT_EQ(json::parse(out->ex.response->body)["error"]["code"], "unknown_conversation");

  rig.history.fail_load = true;
  out = rig.chat({{"query", "bass"}, {"conversation_id", "made-up"}});
  ASSERT_TRUE(out->ex.response);
  EXPECT_EQ(out->ex.response->status, 503);
  EXPECT_TRUE(rig.search.asked.empty());
}

TEST(ChatService, AClientGoneMidStreamEndsTheChatAndSavesNothing) {
  // Without a detached grace (CHAT_DETACHED_GRACE_SECONDS=0, or no stream
  // kept): at once.
  Rig rig;
  rig.settings.chat_detached_grace_seconds = 0;
  const auto out = rig.chat({{"query", "bass"}}, /*gone_after=*/2);
  EXPECT_EQ(out->ex.events.size(), 2u);
  EXPECT_EQ(rig.history.appends, 0);
  const auto& kept = rig.journal.streams.begin()->second;
  ASSERT_FALSE(kept.events.empty());
  EXPECT_EQ(kept.events.back().data, R"({"message":"Stream abandoned"})")
      << "ended for its readers, not answered on";
  rig.settings.chat_detached_grace_seconds = 15;
  rig.journal.off = true;
  const auto unkept = rig.chat({{"query", "bass"}}, /*gone_after=*/2);
  EXPECT_TRUE(unkept->error) << "nothing to resume: nothing to go on for";
  EXPECT_EQ(rig.history.appends, 0);
}

TEST(ChatService, WithTheGraceAnAnswerWhoseClientLeftGoesOnForItsReaders) {
  Rig rig;  // a stream kept, the default grace of 15 s
  const auto out = rig.chat({{"query", "bass"}}, /*gone_after=*/2);
  EXPECT_FALSE(out->error) << "the client leaving is no failure of the request";
  EXPECT_EQ(out->ex.events.size(), 2u) << "nothing written to it after it left";
  ASSERT_EQ(rig.journal.streams.size(), 1u);
  const auto& kept = rig.journal.streams.begin()->second;
  ASSERT_FALSE(kept.events.empty());
  EXPECT_EQ(kept.events.back().event, "done") << "kept to its end for whoever resumes";
  EXPECT_EQ(kept.events.size(), 5u) << "sources, three tokens, done";
  EXPECT_EQ(rig.history.appends, 1) << "a finished answer is saved";
}

TEST(ChatService, AnOwnersConversationsAreApartFromOthers) {
  Rig rig;
  rig.chat({{"query", "bass"}, {"conversation_id", "shared-id"}});
  EXPECT_EQ(rig.history.conversations.count("shared-id"), 1u);
  // The same id under a key is another conversation, stored apart.
  rig.history.conversations.clear();
  FakeExchange ex;
  ex.req.headers = {{"content-type", "application/json"}};
  ex.req.body = R"({"query": "bass", "conversation_id": "shared-id"})";
  ex.set_owner("key.abc");
  net::io_context ctx;
  net::co_spawn(ctx, rig.service.chat(ex), net::detached);
  ctx.run();
  EXPECT_EQ(ex.names().back(), "done");
  EXPECT_EQ(rig.history.conversations.count("shared-id"), 0u);
  EXPECT_EQ(rig.history.conversations.count("key.abc:shared-id"), 1u);
}

// The whole service: the binary with real Postgres (the sample corpus),
// real Redis and the fake model upstream, spoken to over HTTP.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support/chat_client.hpp"
#include "support/service_process.hpp"
#include "support/test_database.hpp"
#include "support/test_redis.hpp"

using namespace chrysopedia::test;
using nlohmann::json;

namespace {

/// One database with the sample corpus for the whole suite.
class Chat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new TestDatabase();
    db_->import(sample_corpus());
  }
  static void TearDownTestSuite() { delete db_; }

  std::map<std::string, std::string> env(const FakeLlmServer* fake, const TestRedis* redis) {
    std::map<std::string, std::string> e = {{"DATABASE_URL", db_->url()}};
    if (fake) {
      e["LLM_API_URL"] = fake->url();
      e["LLM_API_KEY"] = "sk-e2e-secret";
      e["LLM_MODEL"] = "e2e-model";
    }
    if (redis) e["REDIS_URL"] = redis->url();
    return e;
  }

  static TestDatabase* db_;
};

TestDatabase* Chat::db_ = nullptr;

const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

}  // namespace

TEST_F(Chat, TheWholeHappyPath) {
  FakeLlmServer fake;
  fake.push(
      openai_stream({"Sidechain", " the bass to the kick [1].\n\nThen", " set the release."}));
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis));

  const auto r = post_chat(service.port(), chat_body("how do I sidechain my bass to the kick?"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/event-stream");
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"}));
  const auto sources = json::parse(r.find("sources")->data);
  ASSERT_FALSE(sources.empty());
  EXPECT_EQ(sources[0]["number"], 1);
  for (const char* key : {"title", "slug", "creator_name", "topic_category", "summary",
                          "section_anchor", "section_heading"}) {
    EXPECT_TRUE(sources[0].contains(key)) << key;
  }
  EXPECT_EQ(r.text, "Sidechain the bass to the kick [1].\n\nThen set the release.")
      << "paragraph breaks survive";
  const auto done = json::parse(r.find("done")->data);
  EXPECT_EQ(done["cascade_tier"], "global");
  EXPECT_TRUE(std::regex_match(done["conversation_id"].get<std::string>(), kUuid));
  EXPECT_EQ(done["usage"]["prompt_tokens"], 42);
  EXPECT_EQ(done["usage"]["completion_tokens"], 3);
  EXPECT_TRUE(done["latency_ms"].is_number());

  // What the model was asked.
  const auto upstream = fake.requests().at(0);
  EXPECT_EQ(upstream.headers.at("authorization"), "Bearer sk-e2e-secret");
  const auto body = json::parse(upstream.body);
  EXPECT_EQ(body["model"], "e2e-model");
  const std::string system = body["messages"][0]["content"];
  EXPECT_EQ(system.rfind("You are Chrysopedia, an expert encyclopedic assistant", 0), 0u);
  EXPECT_NE(system.find("Sources:\n<source 1>\n[1] " + sources[0]["title"].get<std::string>()),
            std::string::npos);
  EXPECT_EQ(body["messages"].back()["content"], "how do I sidechain my bass to the kick?");

  // Remembered under the conversation id.
  const auto stored =
      json::parse(redis.cli("GET chrysopedia:chat:" + done["conversation_id"].get<std::string>()));
  EXPECT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1]["content"], r.text);
  EXPECT_EQ(service.process().output().find("sk-e2e-secret"), std::string::npos);
}

TEST_F(Chat, TwelveTurnsKeepTheLastTwentyMessagesAndRefreshTheTtl) {
  FakeLlmServer fake;
  fake.set_handler([](const RecordedRequest& req) {
    const auto n = json::parse(req.body)["messages"].size();
    return openai_stream({"answer with " + std::to_string(n) + " messages"});
  });
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis));
  for (int turn = 1; turn <= 12; ++turn) {
    const auto r = post_chat(
        service.port(), chat_body("question " + std::to_string(turn), std::nullopt, "multi-1"));
    ASSERT_TRUE(r.find("done")) << turn;
    if (turn == 5) redis.cli("EXPIRE chrysopedia:chat:multi-1 5");
  }
  const auto stored = json::parse(redis.cli("GET chrysopedia:chat:multi-1"));
  ASSERT_EQ(stored.size(), 20u);
  EXPECT_EQ(stored[0]["content"], "question 3");
  EXPECT_EQ(stored[19]["role"], "assistant");
  EXPECT_GE(std::stoi(redis.cli("TTL chrysopedia:chat:multi-1")), 3590);
  // The 12th request carried system + 20 remembered + the question.
  EXPECT_EQ(json::parse(fake.requests().back().body)["messages"].size(), 22u);

  RawClient c(service.port());
  c.send(make_request("GET", "/api/v1/conversations/multi-1"));
  const auto got = c.read_response();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body)["messages"].size(), 20u);
  c.send(make_request("DELETE", "/api/v1/conversations/multi-1"));
  EXPECT_EQ(c.read_response().status, 204);
  c.send(make_request("GET", "/api/v1/conversations/multi-1"));
  EXPECT_EQ(c.read_response().status, 404);
}

TEST_F(Chat, EachCascadeTier) {
  FakeLlmServer fake;
  ServiceProcess service(env(&fake, nullptr));
  auto tier = [&](const std::string& q, std::optional<std::string> creator = {}) {
    const auto r = post_chat(service.port(), chat_body(q, creator));
    return json::parse(r.find("done")->data)["cascade_tier"].get<std::string>();
  };
  EXPECT_EQ(tier("sidechain compression", "kara lindqvist"), "creator");
  EXPECT_EQ(tier("sidechain compression", "nobody-known"), "global");
  EXPECT_EQ(tier("reverbbb"), "fuzzy");  // two slips: spelling.hpp mends one
  const auto none = post_chat(service.port(), chat_body("zzqx vvrpt"));
  EXPECT_EQ(none.find("sources")->data, "[]");
  EXPECT_EQ(json::parse(none.find("done")->data)["cascade_tier"], "none");
  const std::string system = json::parse(fake.requests().back().body)["messages"][0]["content"];
  EXPECT_NE(system.find("Sources:\n(No sources available)\n"), std::string::npos)
      << "the model is still asked";
}

TEST_F(Chat, AnUpstreamFailureIsAnErrorEventAndNothingIsSaved) {
  FakeLlmServer fake;
  fake.push(error_reply(500, "boom"));
  auto drop = openai_stream({"partial", " answer"}, std::chrono::milliseconds(0), false, "", false);
  drop.end = FakeReply::End::drop;
  fake.push(drop);
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis));

  const auto failed = post_chat(service.port(), chat_body("sidechain", std::nullopt, "fail-1"));
  EXPECT_EQ(failed.names(), (std::vector<std::string>{"sources", "error"}));
  EXPECT_EQ(failed.find("error")->data, R"({"message":"LLM generation failed"})");

  const auto dropped = post_chat(service.port(), chat_body("sidechain", std::nullopt, "fail-1"));
  EXPECT_EQ(dropped.names(), (std::vector<std::string>{"sources", "token", "error"}));
  EXPECT_EQ(dropped.text, "partial answer");
  EXPECT_EQ(redis.cli("EXISTS chrysopedia:chat:fail-1"), "0");
  EXPECT_NE(service.process().output().find("chat_llm_error"), std::string::npos);
}

TEST_F(Chat, WithRedisDownTheChatStillCompletes) {
  FakeLlmServer fake;
  auto redis = std::make_unique<TestRedis>();
  ServiceProcess service(env(&fake, redis.get()));
  redis.reset();
  const auto r = post_chat(service.port(), chat_body("sidechain", std::nullopt, "no-memory"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"}));
  const auto log = service.process().output();
  EXPECT_NE(log.find("chat_history_load_error"), std::string::npos);
  EXPECT_NE(log.find("chat_history_save_error"), std::string::npos);
}

TEST_F(Chat, AnUnreachableDatabaseIsSearchFailedAndTheServerStaysUp) {
  FakeLlmServer fake;
  auto e = env(&fake, nullptr);
  e["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/none";
  ServiceProcess service(e);
  const auto r = post_chat(service.port(), chat_body("sidechain"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"error"}));
  EXPECT_EQ(r.find("error")->data, R"({"message":"Search failed"})");
  RawClient c(service.port());
  c.send(make_request("GET", "/healthz"));
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_TRUE(fake.requests().empty()) << "no model call without sources";
}

TEST_F(Chat, LlmHttpClientCurlSendsPlainHttpThroughLibcurl) {
  // Told apart by the requests: libcurl offers content encodings, the
  // native client names itself and offers none.
  for (const std::string client : {"auto", "curl"}) {
    FakeLlmServer fake;
    auto e = env(&fake, nullptr);
    e["LLM_HTTP_CLIENT"] = client;
    ServiceProcess service(e);
    const auto r = post_chat(service.port(), chat_body("sidechain"));
    EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"})) << client;
    const auto requests = fake.requests();
    ASSERT_EQ(requests.size(), 1u) << client;
    const auto& headers = requests[0].headers;
    const bool by_curl = headers.count("accept-encoding") > 0;
    EXPECT_EQ(by_curl, client == "curl") << client;
    EXPECT_EQ(headers.count("user-agent") && headers.at("user-agent") == "chrysopedia-chat",
              client == "auto")
        << client;
  }
}

TEST_F(Chat, EveryBadInputIsRefusedWithAMessageNamingTheField) {
  ServiceProcess service(env(nullptr, nullptr));
  struct Case {
    std::string body;
    std::string content_type;
    int status;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {"{not json", "application/json", 400, "JSON"},
      {"[1]", "application/json", 400, "object"},
      {"{}", "application/json", 400, "query"},
      {R"({"query": null})", "application/json", 400, "query"},
      {R"({"query": 5})", "application/json", 400, "query"},
      {R"({"query": "   "})", "application/json", 400, "query"},
      {json{{"query", std::string(2001, 'a')}}.dump(), "application/json", 400, "2000"},
      {"{\"query\": \"bad \xff utf8\"}", "application/json", 400, "UTF-8"},
      {R"({"query": "ok", "creator": 7})", "application/json", 400, "creator"},
      {R"({"query": "ok", "conversation_id": "has space"})", "application/json", 400,
       "conversation_id"},
      {json{{"query", "ok"}, {"conversation_id", std::string(65, 'a')}}.dump(), "application/json",
       400, "conversation_id"},
      {R"({"query": "ok"})", "text/plain", 415, "application/json"},
      {R"({"query": "ok"})", "", 415, "application/json"},
      {json{{"query", std::string(70000, 'a')}}.dump(), "application/json", 413, "limit"},
  };
  for (const auto& c : cases) {
    const auto r = post_chat(service.port(), c.body, c.content_type);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 60);
    EXPECT_EQ(r.content_type, "application/json") << "no stream was started";
    EXPECT_NE(r.body["error"]["message"].get<std::string>().find(c.mentions), std::string::npos)
        << r.body.dump();
  }
  // A 2000-character query is fine, and so is one of multi-byte characters.
  EXPECT_EQ(post_chat(service.port(), json{{"query", std::string(2000, 'a')}}.dump()).status, 200);
  std::string accents;
  for (int i = 0; i < 2000; ++i) accents += "é";
  EXPECT_EQ(post_chat(service.port(), json{{"query", accents}}.dump()).status, 200);
}

TEST_F(Chat, FiftyConcurrentChatsEachGetTheirOwnTokens) {
  FakeLlmServer fake;
  fake.set_handler([](const RecordedRequest& req) {
    const std::string q = json::parse(req.body)["messages"].back()["content"];
    std::vector<std::string> deltas;
    for (int i = 0; i < 10; ++i) deltas.push_back(q + "#" + std::to_string(i) + " ");
    return openai_stream(deltas, std::chrono::milliseconds(10));
  });
  ServiceProcess service(env(&fake, nullptr));
  std::vector<std::thread> clients;
  std::atomic<int> correct{0};
  for (int n = 0; n < 50; ++n) {
    clients.emplace_back([&, n] {
      const std::string q = "mixing question " + std::to_string(n);
      const auto r = post_chat(service.port(), chat_body(q));
      std::string expected;
      for (int i = 0; i < 10; ++i) expected += q + "#" + std::to_string(i) + " ";
      if (r.text == expected && r.find("done")) ++correct;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(correct, 50);
}

TEST_F(Chat, AClientThatLeavesStopsTheUpstreamAndSavesNothing) {
  // With no detached grace (CHAT_DETACHED_GRACE_SECONDS=0; resume off or no
  // Redis are the same), at once.
  FakeLlmServer fake;
  auto hang = openai_stream({"first"}, std::chrono::milliseconds(0), false, "", false);
  hang.end = FakeReply::End::hang;
  fake.push(hang);
  TestRedis redis;
  auto settings = env(&fake, &redis);
  settings["CHAT_DETACHED_GRACE_SECONDS"] = "0";
  ServiceProcess service(settings);
  {
    RawClient c(service.port());
    c.send(make_request("POST", "/api/v1/chat", chat_body("sidechain", std::nullopt, "left-1"),
                        "Content-Type: application/json\r\n"));
    c.read_head();
    std::string seen;
    while (seen.find("event: token") == std::string::npos) seen += *c.read_chunk();
  }
  const auto left = std::chrono::steady_clock::now();
  while (fake.connections_closed_by_client() < 1 &&
         std::chrono::steady_clock::now() - left < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(fake.connections_closed_by_client(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - left, std::chrono::seconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(redis.cli("EXISTS chrysopedia:chat:left-1"), "0");
}

TEST_F(Chat, TheOfflineAnswererCitesItsSources) {
  TestRedis redis;
  ServiceProcess service(env(nullptr, &redis));
  const auto r = post_chat(service.port(), chat_body("how do I stop my kick and bass fighting?"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"}));
  EXPECT_NE(r.text.find("[1]"), std::string::npos) << r.text;
  EXPECT_GT(std::count_if(r.events.begin(), r.events.end(),
                          [](const SseEvent& e) { return e.event == "token"; }),
            10)
      << "streamed in small pieces";
  const auto again =
      post_chat(service.port(), chat_body("how do I stop my kick and bass fighting?"));
  EXPECT_EQ(again.text, r.text) << "deterministic";
  const auto nothing = post_chat(service.port(), chat_body("zzqx vvrpt"));
  EXPECT_NE(nothing.text.find("couldn't find"), std::string::npos) << nothing.text;
}

// Issue 16: "what attack time for that?" was searched alone and found
// nothing of the conversation; a question that changes the subject must
// still find the new subject.
TEST_F(Chat, AFollowUpIsSearchedInTheConversationsContext) {
  FakeLlmServer fake;
  fake.set_default(openai_stream({"Set it [1]."}));
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis));
  const auto first =
      post_chat(service.port(), chat_body("how do I de-ess a really bright female vocal"));
  const std::string cid = json::parse(first.find("done")->data)["conversation_id"];

  const auto follow =
      post_chat(service.port(), chat_body("does it go before or after the compressor?", {}, cid));
  const auto sources = json::parse(follow.find("sources")->data);
  ASSERT_FALSE(sources.empty());
  // A page on de-essing vocals first (where the de-esser goes is in both),
  // not one about compressors in general.
  EXPECT_TRUE(sources[0]["slug"] == "de-essing-sibilance" ||
              sources[0]["slug"] == "vocal-chain-order")
      << sources.dump();
  const auto done = json::parse(follow.find("done")->data);
  EXPECT_EQ(done["searched_query"],
            "does it go before or after the compressor? how do I de-ess a really bright female "
            "vocal");
  EXPECT_NE(service.process().output().find("searched=\\\"does it go before or after"),
            std::string::npos);

  const auto change = post_chat(
      service.port(),
      chat_body("ok different question: what LUFS should I master to for spotify?", {}, cid));
  const auto done2 = json::parse(change.find("done")->data);
  EXPECT_EQ(done2["searched_query"],
            "ok different question: what LUFS should I master to for spotify?");
  EXPECT_EQ(json::parse(change.find("sources")->data)[0]["slug"], "streaming-loudness-targets");
}

// Issue 16: with CHAT_REWRITE_FOLLOWUPS the model makes a follow-up
// standalone before it is searched; a model that is slow or fails leaves
// the search in context, within the budget.
TEST_F(Chat, AModelMayRewriteAFollowUpWithinItsTimeBudget) {
  FakeLlmServer fake;
  std::atomic<int> mode{0};  // how the rewrite call goes: 0 answered, 1 too slow, 2 failed
  fake.set_handler([&mode](const RecordedRequest& r) {
    if (r.body.find("standalone search query") == std::string::npos) {
      return openai_stream({"Set it [1]."});
    }
    if (mode == 0)
      return openai_stream({"where does a de-esser go", " relative to a compressor\n"});
    if (mode == 2) return error_reply(500, "rewrite broke");
    auto late = openai_stream({"too late"});
    late.chunks.insert(late.chunks.begin(), FakeReply::Chunk{std::chrono::seconds(3), ""});
    return late;
  });
  TestRedis redis;
  auto e = env(&fake, &redis);
  e["CHAT_REWRITE_FOLLOWUPS"] = "true";
  e["CHAT_REWRITE_TIMEOUT_SECONDS"] = "0.4";
  ServiceProcess service(e);
  const auto first =
      post_chat(service.port(), chat_body("how do I de-ess a really bright female vocal"));
  const std::string cid = json::parse(first.find("done")->data)["conversation_id"];
  EXPECT_EQ(fake.requests().size(), 1u) << "a first question is not rewritten";

  const auto follow =
      post_chat(service.port(), chat_body("does it go before or after the compressor?", {}, cid));
  EXPECT_EQ(json::parse(follow.find("done")->data)["searched_query"],
            "where does a de-esser go relative to a compressor");
  EXPECT_EQ(json::parse(follow.find("sources")->data)[0]["slug"], "vocal-chain-order");
  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 3u);
  const auto rewrite = json::parse(requests[1].body);
  EXPECT_EQ(rewrite["temperature"], 0);
  EXPECT_EQ(rewrite["max_tokens"], 64);
  EXPECT_EQ(rewrite["model"], "e2e-model");
  EXPECT_NE(rewrite["messages"][1]["content"].get<std::string>().find(
                "- how do I de-ess a really bright female vocal\nLast question: does it go before"),
            std::string::npos)
      << rewrite.dump();
  // The answer is still to the user's own words.
  EXPECT_EQ(json::parse(requests[2].body)["messages"].back()["content"],
            "does it go before or after the compressor?");
  EXPECT_NE(service.process().output().find("rewrite=model"), std::string::npos);

  for (int m : {1, 2}) {
    mode = m;
    const auto started = std::chrono::steady_clock::now();
    const auto fallback =
        post_chat(service.port(), chat_body("does it go before or after the compressor?", {}, cid));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
    const std::string searched = json::parse(fallback.find("done")->data)["searched_query"];
    EXPECT_EQ(searched.rfind("does it go before or after the compressor? ", 0), 0u) << searched;
    EXPECT_NE(service.process().output().find(m == 1 ? "rewrite=timeout" : "rewrite=failed"),
              std::string::npos);
  }
}

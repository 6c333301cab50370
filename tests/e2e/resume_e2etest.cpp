// Resumable chat streams (SPEC §11) through the binary with real Redis and
// Postgres: ids on the wire, a second client resuming a stream that is
// still being written and following it live to `done`, retention, and the
// service without Redis or with Redis gone.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support/chat_client.hpp"
#include "support/raw_client.hpp"
#include "support/service_process.hpp"
#include "support/sse_parser.hpp"
#include "support/test_database.hpp"
#include "support/test_redis.hpp"
#include "support/waiting.hpp"

using namespace chrysopedia::test;
using nlohmann::json;

namespace {

class ResumableStreams : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new TestDatabase();
    db_->import(sample_corpus());
  }
  static void TearDownTestSuite() { delete db_; }

  std::map<std::string, std::string> env(const FakeLlmServer& fake, const TestRedis* redis,
                                         std::map<std::string, std::string> extra = {}) {
    extra.emplace("DATABASE_URL", db_->url());
    extra.emplace("LLM_API_URL", fake.url());
    if (redis) extra.emplace("REDIS_URL", redis->url());
    return extra;
  }
  static TestDatabase* db_;
};

TestDatabase* ResumableStreams::db_ = nullptr;

RawClient::Response get(std::uint16_t port, const std::string& path,
                        const std::string& headers = "") {
  RawClient c(port);
  c.send(make_request("GET", path, "", headers));
  return c.read_response(30s);
}

RawClient::Response chat(std::uint16_t port, const std::string& question) {
  RawClient c(port);
  c.send(make_request("POST", "/api/v1/chat", chat_body(question),
                      "Content-Type: application/json\r\n"));
  return c.read_response(30s);
}

// Asks `port` to stop stream `id` (expecting 204), then reads what
// `reader` still gets into `seen`; the seconds from the stop to its end.
double stop_and_read_rest(std::uint16_t port, const std::string& id, RawClient& reader,
                          std::string& seen) {
  RawClient stopper(port);
  stopper.send(make_request("POST", "/api/v1/chat/streams/" + id + "/stop"));
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(stopper.read_response().status, 204);
  while (auto chunk = reader.read_chunk(5s)) seen += *chunk;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
}

}  // namespace

TEST_F(ResumableStreams, EveryEventHasAnIdAndAnEndedStreamReplaysTheSame) {
  FakeLlmServer fake;
  TestRedis redis;
  ServiceProcess service(env(fake, &redis));
  const auto r = chat(service.port(), "sidechain");
  ASSERT_EQ(r.status, 200);
  const std::string id = r.header("chrysopedia-stream-id");
  ASSERT_EQ(id.size(), 32u);
  const auto events = parse_sse(r.body);
  ASSERT_GE(events.size(), 3u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, id + "-" + std::to_string(i + 1));
  }
  EXPECT_EQ(events.back().event, "done");

  // Kept in Redis for the retention once ended (the writer's last batch
  // may be a moment behind the client).
  const auto replay = get(service.port(), "/api/v1/chat/streams/" + id);
  ASSERT_EQ(replay.status, 200);
  EXPECT_EQ(replay.header("chrysopedia-stream-id"), id);
  EXPECT_EQ(parse_sse(replay.body), events);
  const auto ttl = std::stoll(redis.cli("PTTL chrysopedia:stream:" + id));
  EXPECT_GT(ttl, 250'000);
  EXPECT_LE(ttl, 300'000);

  const auto rest =
      get(service.port(), "/api/v1/chat/streams/" + id, "Last-Event-ID: " + id + "-2\r\n");
  const std::vector<SseEvent> tail(events.begin() + 2, events.end());
  EXPECT_EQ(parse_sse(rest.body), tail);
  const auto none =
      get(service.port(), "/api/v1/chat/streams/" + id + "?after=" + std::to_string(events.size()));
  EXPECT_EQ(none.status, 204);
  EXPECT_EQ(get(service.port(), "/api/v1/chat/streams/" + std::string(32, 'a')).status, 404);
}

TEST_F(ResumableStreams, ASecondClientResumesALiveStreamAndFollowsItToDone) {
  FakeLlmServer fake;
  const auto words = numbered_deltas(40);
  fake.set_default(openai_stream(words, std::chrono::milliseconds(25)));
  TestRedis redis;
  ServiceProcess service(env(fake, &redis));

  RawClient first(service.port());
  first.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                          "Content-Type: application/json\r\n"));
  const auto head = first.read_head();
  const std::string id = head.header("chrysopedia-stream-id");
  ASSERT_EQ(id.size(), 32u);
  std::string seen;
  while (parse_sse(seen).size() < 4) seen += *first.read_chunk();
  const auto before = parse_sse(seen);

  // The second client has seen what the first saw, and resumes live.
  const auto resumed = get(service.port(), "/api/v1/chat/streams/" + id,
                           "Last-Event-ID: " + before.back().id + "\r\n");
  ASSERT_EQ(resumed.status, 200);
  std::string rest = seen;
  while (auto chunk = first.read_chunk()) rest += *chunk;
  const auto all = parse_sse(rest);
  const std::vector<SseEvent> after(all.begin() + static_cast<long>(before.size()), all.end());
  const auto live = parse_sse(resumed.body);
  EXPECT_EQ(live, after) << "the resumed reader gets exactly what the first got after its id";
  ASSERT_FALSE(live.empty());
  EXPECT_EQ(live.back().event, "done");
  EXPECT_GT(live.size(), 30u) << "most of the answer arrived live";
}

TEST_F(ResumableStreams, AnEndedStreamExpiresAfterItsRetention) {
  FakeLlmServer fake;
  TestRedis redis;
  ServiceProcess service(env(fake, &redis, {{"CHAT_STREAM_RETENTION_SECONDS", "1"}}));
  const auto r = chat(service.port(), "sidechain");
  const std::string id = r.header("chrysopedia-stream-id");
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(
      eventually([&] { return get(service.port(), "/api/v1/chat/streams/" + id).status == 404; },
                 std::chrono::seconds(5), std::chrono::milliseconds(200)))
      << "gone after its retention";
}

TEST_F(ResumableStreams, WithoutRedisOrWithRedisGoneThereAreNoIdsAndTheChatGoesOn) {
  FakeLlmServer fake;
  {
    ServiceProcess service(env(fake, nullptr));
    const auto r = chat(service.port(), "sidechain");
    EXPECT_EQ(r.header("chrysopedia-stream-id"), "");
    for (const auto& e : parse_sse(r.body)) EXPECT_EQ(e.id, "");
    EXPECT_EQ(get(service.port(), "/api/v1/chat/streams/" + std::string(32, 'a')).status, 404);
  }
  {
    // Kept off by the operator: no ids either.
    TestRedis redis;
    ServiceProcess service(env(fake, &redis, {{"CHAT_STREAM_RESUME", "false"}}));
    const auto r = chat(service.port(), "sidechain");
    EXPECT_EQ(r.header("chrysopedia-stream-id"), "");
    EXPECT_EQ(redis.cli("--scan --pattern chrysopedia:stream:*"), "");
  }
  auto redis = std::make_unique<TestRedis>();
  ServiceProcess service(env(fake, redis.get()));
  redis.reset();
  // The connection notices the loss at its next command; a chat is one.
  chat(service.port(), "sidechain");
  const auto r = chat(service.port(), "sidechain");
  EXPECT_EQ(r.header("chrysopedia-stream-id"), "");
  const auto events = parse_sse(r.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "done");
  for (const auto& e : events) EXPECT_EQ(e.id, "");
}

TEST_F(ResumableStreams, AStopThroughAnotherReplicaEndsTheAnswerWithinASecondAndSavesIt) {
  FakeLlmServer fake;
  const auto words = numbered_deltas(200);
  fake.set_default(openai_stream(words, std::chrono::milliseconds(20)));
  TestRedis redis;
  ServiceProcess a(env(fake, &redis));
  ServiceProcess b(env(fake, &redis));

  RawClient reader(a.port());
  reader.send(make_request("POST", "/api/v1/chat",
                           chat_body("sidechain", std::nullopt, "stopped-1"),
                           "Content-Type: application/json\r\n"));
  const std::string id = reader.read_head().header("chrysopedia-stream-id");
  ASSERT_EQ(id.size(), 32u);
  std::string seen;
  while (parse_sse(seen).size() < 6) seen += *reader.read_chunk();

  const double took = stop_and_read_rest(b.port(), id, reader, seen);
  const auto events = parse_sse(seen);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().event, "done");
  EXPECT_EQ(json::parse(events.back().data)["stopped"], true);
  EXPECT_LT(took, 1.0);
  std::string text;
  for (const auto& e : events) {
    if (e.event == "token") text += e.data;
  }
  EXPECT_LT(events.size(), 150u) << "stopped long before the answer's 200 tokens";

  // The upstream was stopped, and the partial turn saved as the reader got it.
  const auto until = std::chrono::steady_clock::now() + 2s;
  while (fake.connections_closed_by_client() < 1 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(fake.connections_closed_by_client(), 1);
  const auto saved = json::parse(get(b.port(), "/api/v1/conversations/stopped-1").body);
  ASSERT_EQ(saved["messages"].size(), 2u);
  EXPECT_EQ(saved["messages"][1]["content"], text);
  // Stopping it again, or a stream nobody has: 204 without change, 404.
  RawClient again(b.port());
  again.send(make_request("POST", "/api/v1/chat/streams/" + id + "/stop"));
  EXPECT_EQ(again.read_response().status, 204);
  RawClient none(b.port());
  none.send(make_request("POST", "/api/v1/chat/streams/" + std::string(32, 'b') + "/stop"));
  EXPECT_EQ(none.read_response().status, 404);
}

TEST_F(ResumableStreams, AStopEndsASilentModelsAnswerWithinASecondThroughAnotherReplica) {
  // Three tokens, then the model thinks (writes nothing) for good: nothing
  // comes that the stop could be noticed after, and the liveness time
  // (its heartbeat batches every 5 s) is far past the second.
  FakeLlmServer fake;
  auto silent = openai_stream({" Duck", " the", " bass"}, 10ms, false, "", false);
  silent.end = FakeReply::End::hang;
  fake.set_default(silent);
  TestRedis redis;
  ServiceProcess a(env(fake, &redis, {{"CHAT_STREAM_LIVENESS_SECONDS", "10"}}));
  ServiceProcess b(env(fake, &redis));

  RawClient reader(a.port());
  reader.send(make_request("POST", "/api/v1/chat", chat_body("sidechain", std::nullopt, "silent-1"),
                           "Content-Type: application/json\r\n"));
  const std::string id = reader.read_head().header("chrysopedia-stream-id");
  ASSERT_EQ(id.size(), 32u);
  std::string seen;
  const auto tokens = [&seen] {
    int n = 0;
    for (const auto& e : parse_sse(seen)) n += e.event == "token";
    return n;
  };
  while (tokens() < 3) seen += *reader.read_chunk();
  std::this_thread::sleep_for(300ms);  // the model is silent now

  const double took = stop_and_read_rest(b.port(), id, reader, seen);
  const auto events = parse_sse(seen);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().event, "done");
  EXPECT_EQ(json::parse(events.back().data)["stopped"], true);
  EXPECT_LT(took, 1.0) << "a silent model's answer stopped within a second";
  const auto saved = json::parse(get(b.port(), "/api/v1/conversations/silent-1").body);
  ASSERT_EQ(saved["messages"].size(), 2u);
  std::string text;
  for (const auto& e : events) {
    if (e.event == "token") text += e.data;
  }
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(saved["messages"][1]["content"], text) << "the partial turn saved";
  const auto until = std::chrono::steady_clock::now() + 2s;
  while (fake.connections_closed_by_client() < 1 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(fake.connections_closed_by_client(), 1) << "the upstream stopped";
}

TEST_F(ResumableStreams, AnAnswerGoingOnDetachedKeepsItsPlaceUnderTheStreamCap) {
  FakeLlmServer fake;
  fake.set_default(openai_stream(numbered_deltas(200), std::chrono::milliseconds(25)));
  TestRedis redis;
  ServiceProcess service(env(fake, &redis, {{"CHAT_MAX_STREAMS", "1"}}));

  std::string id;
  {
    RawClient leaver(service.port());
    leaver.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                             "Content-Type: application/json\r\n"));
    id = leaver.read_head().header("chrysopedia-stream-id");
    std::string seen;
    while (parse_sse(seen).size() < 4) seen += *leaver.read_chunk();
  }  // gone; its answer goes on for the grace, its model stream open
  std::this_thread::sleep_for(300ms);
  const auto over = chat(service.port(), "sidechain");
  EXPECT_EQ(over.status, 503) << "the detached answer still holds the one place";
  EXPECT_EQ(json::parse(over.body)["error"]["code"], "overloaded") << over.body;

  RawClient stopper(service.port());
  stopper.send(make_request("POST", "/api/v1/chat/streams/" + id + "/stop"));
  EXPECT_EQ(stopper.read_response().status, 204);
  EXPECT_TRUE(eventually([&] { return chat(service.port(), "sidechain").status == 200; }, 3s))
      << "its place is free once it ends";
}

TEST_F(ResumableStreams, AReplicaKilledMidStreamIsStreamInterruptedForItsReaders) {
  FakeLlmServer fake;
  const auto words = numbered_deltas(400);
  fake.set_default(openai_stream(words, std::chrono::milliseconds(25)));
  TestRedis redis;
  auto a =
      std::make_unique<ServiceProcess>(env(fake, &redis, {{"CHAT_STREAM_LIVENESS_SECONDS", "2"}}));
  ServiceProcess b(env(fake, &redis, {{"CHAT_STREAM_LIVENESS_SECONDS", "2"}}));

  RawClient writer(a->port());
  writer.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                           "Content-Type: application/json\r\n"));
  const std::string id = writer.read_head().header("chrysopedia-stream-id");
  ASSERT_EQ(id.size(), 32u);
  std::string seen;
  while (parse_sse(seen).size() < 4) seen += *writer.read_chunk();

  RawClient reader(b.port());
  reader.send(make_request("GET", "/api/v1/chat/streams/" + id, "",
                           "Last-Event-ID: " + parse_sse(seen).back().id + "\r\n"));
  ASSERT_EQ(reader.read_head().status, 200);
  a->process().signal(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  std::string got;
  while (auto chunk = reader.read_chunk(10s)) got += *chunk;
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  const auto events = parse_sse(got);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "error");
  EXPECT_EQ(events.back().data, R"({"message":"Stream interrupted"})");
  EXPECT_LT(took, 2.0 + 2.0) << "within the liveness time and a check";
  a.reset();
}

TEST_F(ResumableStreams, AClientThatLeavesIsGivenTheGraceToBeResumedAndTheAnswerGoesOn) {
  FakeLlmServer fake;
  fake.set_default(openai_stream(numbered_deltas(80), std::chrono::milliseconds(25)));
  TestRedis redis;
  ServiceProcess service(env(fake, &redis, {{"CHAT_DETACHED_GRACE_SECONDS", "2"}}));

  std::string id;
  std::string seen;
  {
    RawClient leaver(service.port());
    leaver.send(make_request("POST", "/api/v1/chat",
                             chat_body("sidechain", std::nullopt, "detached-1"),
                             "Content-Type: application/json\r\n"));
    id = leaver.read_head().header("chrysopedia-stream-id");
    while (parse_sse(seen).size() < 4) seen += *leaver.read_chunk();
  }  // the connection drops, as a laptop's does when it sleeps
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto resumed = get(service.port(), "/api/v1/chat/streams/" + id,
                           "Last-Event-ID: " + parse_sse(seen).back().id + "\r\n");
  ASSERT_EQ(resumed.status, 200);
  const auto rest = parse_sse(resumed.body);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().event, "done") << "the answer went on while its client was away";
  std::string text;
  for (const auto& e : parse_sse(seen)) {
    if (e.event == "token") text += e.data;
  }
  for (const auto& e : rest) {
    if (e.event == "token") text += e.data;
  }
  std::string whole;
  for (const auto& w : numbered_deltas(80)) whole += w;
  EXPECT_EQ(text, whole) << "every token once, across the two connections";
  EXPECT_EQ(fake.connections_closed_by_client(), 0) << "the model was never stopped";
  const auto saved = json::parse(get(service.port(), "/api/v1/conversations/detached-1").body);
  ASSERT_EQ(saved["messages"].size(), 2u);
  EXPECT_EQ(saved["messages"][1]["content"], whole);
}

TEST_F(ResumableStreams, AnAnswerNobodyResumesWithinTheGraceIsStoppedAndNotSaved) {
  FakeLlmServer fake;
  // A model that writes once and then nothing: the grace is kept by a
  // watch, not by tokens.
  auto hang = openai_stream({"first"}, std::chrono::milliseconds(0), false, "", false);
  hang.end = FakeReply::End::hang;
  fake.set_default(hang);
  TestRedis redis;
  ServiceProcess service(env(fake, &redis, {{"CHAT_DETACHED_GRACE_SECONDS", "1"}}));
  std::string id;
  {
    RawClient c(service.port());
    c.send(make_request("POST", "/api/v1/chat", chat_body("sidechain", std::nullopt, "left-2"),
                        "Content-Type: application/json\r\n"));
    id = c.read_head().header("chrysopedia-stream-id");
    std::string seen;
    while (seen.find("event: token") == std::string::npos) seen += *c.read_chunk();
  }
  const auto left = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(fake.connections_closed_by_client(), 0) << "still within the grace";
  while (fake.connections_closed_by_client() < 1 &&
         std::chrono::steady_clock::now() - left < std::chrono::seconds(4)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(fake.connections_closed_by_client(), 1);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - left).count();
  EXPECT_GT(took, 0.9);
  EXPECT_LT(took, 2.0) << "the model stopped when the grace ran out";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(redis.cli("EXISTS chrysopedia:chat:left-2"), "0") << "nothing saved";
  const auto events = parse_sse(get(service.port(), "/api/v1/chat/streams/" + id).body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data, R"({"message":"Stream abandoned"})");
}

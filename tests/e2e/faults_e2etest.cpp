// Fault injection on the service's peers (issue 9): a slow or killed
// Postgres, a paused or killed Redis, an upstream that rate-limits, drips,
// never ends, sends a 50 MB line or bad UTF-8. Each test runs the binary and
// checks what the client gets, that the service keeps serving, and (where a
// fault could grow it) that its memory stays bounded. Every peer is the
// test's own (a fresh database on the shared Postgres, a private Redis, the
// fake upstream), so nothing here disturbs other tests.
#include <gtest/gtest.h>

#include <signal.h>

#include <future>
#include <thread>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "fakes/fake_llm_server.hpp"
#include "support/chat_client.hpp"
#include "support/process_stats.hpp"
#include "support/service_process.hpp"
#include "support/test_database.hpp"
#include "support/test_redis.hpp"
#include "support/waiting.hpp"

using namespace chrysopedia::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kSearchFailed = R"({"message":"Search failed"})";
constexpr std::string_view kLlmFailed = R"({"message":"LLM generation failed"})";
// Generous: a fault that makes the service buffer what it is sent (a 50 MB
// line, an endless stream) passes it many times over.
constexpr long kMemorySlackKib = 64 * 1024;

std::string seed() {
  return page_line("sidechain-bass", "Sidechain compression for bass", "kara", "Kara Lindqvist",
                   "mixing", "Duck the bass under the kick with a sidechained compressor.") +
         "\n" +
         page_line("parallel-drums", "Parallel compression on drums", "rosa", "Rosa Delgado",
                   "mixing", "Blend a crushed copy of the drums under the dry ones.") +
         "\n";
}

std::string chunk(const json& j) {
  return "data: " + j.dump() + "\n\n";
}

std::string delta_chunk(const std::string& text) {
  return chunk({{"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}});
}

class Faults : public ::testing::Test {
 protected:
  void SetUp() override { db_.import(seed()); }

  std::map<std::string, std::string> env(const FakeLlmServer* fake, const TestRedis* redis,
                                         std::map<std::string, std::string> extra = {}) {
    extra.emplace("DATABASE_URL", db_.url());
    if (fake) extra.emplace("LLM_API_URL", fake->url());
    if (redis) extra.emplace("REDIS_URL", redis->url());
    return extra;
  }

  TestDatabase db_;
};

// ---------------------------------------------------------------- Postgres

// Holds ACCESS EXCLUSIVE locks on the tables every search reads (the
// documents, and the lists' generation, which a search ranked in the
// process still checks), from its own connection, until released: the
// service's queries wait on them.
// Waits until no other backend on the database is busy: the service's
// pool connects and warms each connection with a search at start, and a
// warm-up still running when the lock is taken would wait on it too.
void wait_until_idle(const std::string& url) {
  pqxx::connection c(url);
  for (int i = 0; i < 200; ++i) {
    pqxx::nontransaction tx(c);
    if (tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                 " AND pid <> pg_backend_pid() AND state = 'active'")[0]
            .as<int>() == 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

class TableLock {
 public:
  explicit TableLock(const std::string& url) : conn_(url), tx_(conn_) {
    wait_until_idle(url);
    tx_.exec0("LOCK TABLE search_documents, lexeme_lists_generation IN ACCESS EXCLUSIVE MODE");
  }
  int backend_pid() const { return conn_.backendpid(); }
  void release() { tx_.abort(); }

 private:
  pqxx::connection conn_;
  pqxx::work tx_;
};

// The pids of the service's backends on this database waiting for a lock.
std::vector<int> waiting_backends(const std::string& url, int except_pid) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  std::vector<int> out;
  for (const auto& row :
       tx.exec("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> " +
               std::to_string(except_pid) +
               " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")) {
    out.push_back(row[0].as<int>());
  }
  return out;
}

// Waits (up to 10 s) until the service's pool has its `connections` (named
// by their application_name) and none is busy: their warm-up searches (and
// the lexicon read at start) are over, and no connection still being made
// will run one later. Either would otherwise also queue behind a table lock
// (slow under the sanitizers).
void wait_until_backends_idle(const std::string& url, int connections) {
  pqxx::connection c(url);
  const bool idle = eventually(
      [&] {
        pqxx::nontransaction tx(c);
        const auto row = tx.exec1(
            "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = 'chrysopedia'");
        return row[0].as<int>() == connections && row[1].as<int>() == 0;
      },
      std::chrono::seconds(10));
  if (!idle) {
    ADD_FAILURE() << "the service's " << connections << " connections were not all idle in 10 s";
  }
}

void terminate_backend(const std::string& url, int pid) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  tx.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
}

TEST_F(Faults, APostgresLockHeldPastTheSearchTimeoutIsSearchFailedPromptly) {
  ServiceProcess service(
      env(nullptr, nullptr, {{"SEARCH_TIMEOUT_SECONDS", "1"}, {"SEARCH_POOL_SIZE", "2"}}));
  ASSERT_TRUE(post_chat(service.port(), chat_body("sidechain")).find("done"));

  TableLock lock(db_.url());
  // More chats than connections: those queued behind the stuck ones must
  // not wait a timeout each.
  const auto start = Clock::now();
  std::vector<std::future<std::pair<ChatOutcome, double>>> chats;
  for (int i = 0; i < 6; ++i) {
    chats.push_back(std::async(std::launch::async, [&] {
      auto r = post_chat(service.port(), chat_body("sidechain"));
      return std::make_pair(r, seconds_since(start));
    }));
  }
  EXPECT_TRUE(healthy(service.port())) << "the lock holds searches, not the server";
  for (auto& f : chats) {
    const auto [r, took] = f.get();
    EXPECT_EQ(r.status, 200);
    ASSERT_EQ(r.names(), (std::vector<std::string>{"error"}));
    EXPECT_EQ(r.find("error")->data, kSearchFailed);
    EXPECT_LT(took, 2.5) << "the search timeout is 1 s";
  }
  EXPECT_NE(service.process().output().find("chat_search_error"), std::string::npos);

  lock.release();
  const auto after = post_chat(service.port(), chat_body("sidechain"));
  EXPECT_EQ(after.names(), (std::vector<std::string>{"sources", "token", "done"}));
}

TEST_F(Faults, APostgresBackendKilledMidQueryIsSearchFailedAndTheNextChatWorks) {
  // A long timeout, so that what ends the search is the kill.
  ServiceProcess service(
      env(nullptr, nullptr, {{"SEARCH_TIMEOUT_SECONDS", "20"}, {"SEARCH_POOL_SIZE", "1"}}));
  ASSERT_TRUE(post_chat(service.port(), chat_body("sidechain")).find("done"));

  TableLock lock(db_.url());
  const auto start = Clock::now();
  auto chat = std::async(std::launch::async,
                         [&] { return post_chat(service.port(), chat_body("sidechain")); });
  // A lost connection gets one more go on a new one: kill that too.
  int killed = 0;
  while (killed < 2 && seconds_since(start) < 10 &&
         chat.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    const auto pids = waiting_backends(db_.url(), lock.backend_pid());
    for (int pid : pids) terminate_backend(db_.url(), pid);
    killed += static_cast<int>(pids.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto r = chat.get();
  const double took = seconds_since(start);
  EXPECT_EQ(killed, 2);
  ASSERT_EQ(r.names(), (std::vector<std::string>{"error"}));
  EXPECT_EQ(r.find("error")->data, kSearchFailed);
  EXPECT_LT(took, 10) << "ended by the kill, not the 20 s timeout";
  EXPECT_TRUE(healthy(service.port()));

  lock.release();
  const auto after = post_chat(service.port(), chat_body("sidechain"));
  EXPECT_EQ(after.names(), (std::vector<std::string>{"sources", "token", "done"}))
      << service.process().output();
}

// A backend that stops answering altogether (SIGSTOP: a hung server, or a
// network that drops everything) never runs its own statement timeout.
TEST_F(Faults, AHungPostgresBackendIsSearchFailedShortlyAfterTheTimeout) {
  ServiceProcess service(
      env(nullptr, nullptr, {{"SEARCH_TIMEOUT_SECONDS", "1"}, {"SEARCH_POOL_SIZE", "2"}}));
  ASSERT_TRUE(post_chat(service.port(), chat_body("sidechain")).find("done"));
  wait_until_backends_idle(db_.url(), 2);

  TableLock lock(db_.url());
  auto chat = std::async(std::launch::async,
                         [&] { return post_chat(service.port(), chat_body("sidechain")); });
  const auto start = Clock::now();
  std::vector<int> stopped;
  while (stopped.empty() && seconds_since(start) < 0.8) {
    stopped = waiting_backends(db_.url(), lock.backend_pid());
  }
  ASSERT_EQ(stopped.size(), 1u);
  ASSERT_EQ(::kill(stopped[0], SIGSTOP), 0);
  struct Resume {
    int pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{stopped[0]};

  const auto r = chat.get();
  EXPECT_EQ(r.names(), (std::vector<std::string>{"error"}));
  EXPECT_LT(seconds_since(start), 3.0) << "the timeout is 1 s";
  EXPECT_TRUE(healthy(service.port()));
  // The other connection still serves (the hung one is stuck until the
  // backend comes back).
  lock.release();
  EXPECT_EQ(post_chat(service.port(), chat_body("sidechain")).names(),
            (std::vector<std::string>{"sources", "token", "done"}));
}

// ------------------------------------------------------------------- Redis

TEST_F(Faults, APausedRedisDelaysNoChatAndMemoryWorksWhenItResumes) {
  FakeLlmServer fake;
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis));
  ASSERT_TRUE(post_chat(service.port(), chat_body("sidechain", {}, "warm-up")).find("done"));

  redis.pause();
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    const auto r = post_chat(service.port(), chat_body("sidechain", {}, "paused"));
    EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"}));
    // The load waits 250 ms at most; the save's timeout is the stream's
    // last wait before done.
    EXPECT_LT(seconds_since(start), 2.5);
  }
  const auto log = service.process().output();
  EXPECT_NE(log.find("chat_history_load_error"), std::string::npos);
  EXPECT_NE(log.find("chat_history_save_error"), std::string::npos);
  redis.resume();

  // The connection was never lost: memory works again at once.
  ASSERT_TRUE(post_chat(service.port(), chat_body("first question", {}, "resumed")).find("done"));
  ASSERT_TRUE(post_chat(service.port(), chat_body("second question", {}, "resumed")).find("done"));
  const auto asked = json::parse(fake.requests().back().body)["messages"];
  ASSERT_EQ(asked.size(), 4u) << "system, the remembered turn, the question";
  EXPECT_EQ(asked[1]["content"], "first question");
}

TEST_F(Faults, AKilledRedisFailsNoChatAndMemoryReturnsWhenItRestarts) {
  FakeLlmServer fake;
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis));
  ASSERT_TRUE(post_chat(service.port(), chat_body("sidechain", {}, "warm-up")).find("done"));

  redis.stop();
  const auto start = Clock::now();
  const auto r = post_chat(service.port(), chat_body("sidechain", {}, "killed"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"}));
  EXPECT_LT(seconds_since(start), 2.5);
  const auto log = service.process().output();
  EXPECT_NE(log.find("chat_history_load_error"), std::string::npos);
  EXPECT_NE(log.find("chat_history_save_error"), std::string::npos);

  redis.start();  // same port, empty
  // The service reconnects with backoff; a turn is remembered once it has.
  EXPECT_TRUE(eventually(
      [&] {
        post_chat(service.port(), chat_body("sidechain", {}, "restarted"));
        return redis.cli("EXISTS chrysopedia:chat:restarted") == "1";
      },
      std::chrono::seconds(10)))
      << service.process().output();
}

// ---------------------------------------------------------------- Upstream

TEST_F(Faults, A429WithRetryAfterIsRetriedAfterTheWaitAndTheChatCompletes) {
  FakeLlmServer fake;
  fake.push(error_reply(429, "slow down", {{"Retry-After", "1"}}));
  fake.push(openai_stream({"after", " the wait"}));
  ServiceProcess service(env(&fake, nullptr));
  const auto start = Clock::now();
  const auto r = post_chat(service.port(), chat_body("sidechain"));
  const double took = seconds_since(start);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"}));
  EXPECT_EQ(r.text, "after the wait");
  EXPECT_EQ(fake.requests().size(), 2u);
  EXPECT_GE(took, 1.0) << "Retry-After: 1 was honoured";
  EXPECT_LT(took, 4.0);
}

TEST_F(Faults, A429ThatPersistsIsAnErrorEventAfterTheRetriesAndNothingIsSaved) {
  FakeLlmServer fake;
  fake.set_default(error_reply(429, "slow down", {{"Retry-After", "1"}}));
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis, {{"LLM_MAX_RETRIES", "2"}}));
  const auto start = Clock::now();
  const auto r = post_chat(service.port(), chat_body("sidechain", {}, "limited"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "error"}));
  EXPECT_EQ(r.find("error")->data, kLlmFailed);
  EXPECT_EQ(fake.requests().size(), 3u) << "the first try and two retries";
  EXPECT_GE(seconds_since(start), 2.0) << "each retry waited Retry-After";
  EXPECT_EQ(redis.cli("EXISTS chrysopedia:chat:limited"), "0");

  fake.set_default(openai_stream({"fine now"}));
  EXPECT_EQ(post_chat(service.port(), chat_body("sidechain")).text, "fine now");
}

TEST_F(Faults, BytesDrippedSlowerThanTheIdleTimeoutInTotalKeepTheStreamAlive) {
  FakeLlmServer fake;
  auto reply = openai_stream({"first"}, std::chrono::milliseconds(0), false, "", false);
  // 47 bytes, one every 60 ms: almost 3 s, six idle timeouts' worth, but
  // never 0.5 s without a byte.
  for (char c : delta_chunk(" drip")) {
    reply.chunks.push_back({std::chrono::milliseconds(60), std::string(1, c)});
  }
  reply.chunks.push_back({std::chrono::milliseconds(0), "data: [DONE]\n\n"});
  fake.push(reply);
  ServiceProcess service(env(&fake, nullptr, {{"LLM_IDLE_TIMEOUT_SECONDS", "0.5"}}));
  const auto start = Clock::now();
  const auto r = post_chat(service.port(), chat_body("sidechain"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"}));
  EXPECT_EQ(r.text, "first drip");
  EXPECT_GT(seconds_since(start), 2.0);
}

TEST_F(Faults, ADripThatOutlastsTheTotalTimeoutIsEndedByIt) {
  FakeLlmServer fake;
  auto reply = openai_stream({"first"}, std::chrono::milliseconds(0), false, "", false);
  for (int i = 0; i < 200; ++i) {  // a comment, a byte every 60 ms: 12 s
    reply.chunks.push_back({std::chrono::milliseconds(60), i == 0 ? ":" : "x"});
  }
  fake.push(reply);
  ServiceProcess service(env(
      &fake, nullptr, {{"LLM_IDLE_TIMEOUT_SECONDS", "0.5"}, {"LLM_TOTAL_TIMEOUT_SECONDS", "2"}}));
  const auto start = Clock::now();
  const auto r = post_chat(service.port(), chat_body("sidechain"));
  const double took = seconds_since(start);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "error"}));
  EXPECT_EQ(r.find("error")->data, kLlmFailed);
  EXPECT_GT(took, 1.8) << "the idle timeout did not fire while bytes came";
  EXPECT_LT(took, 4.0);
  EXPECT_TRUE(
      eventually([&] { return fake.connections_closed_by_client() == 1; }, std::chrono::seconds(2)))
      << "the upstream connection was closed";
  EXPECT_TRUE(healthy(service.port()));
}

TEST_F(Faults, AStreamThatNeverEndsIsCutAtTheTotalTimeoutWithMemoryBounded) {
  FakeLlmServer fake;
  std::vector<std::string> deltas(10000, "and on ");  // 200 s at 20 ms
  fake.push(openai_stream(deltas, std::chrono::milliseconds(20), false, "", false));
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis, {{"LLM_TOTAL_TIMEOUT_SECONDS", "2"}}));
  const pid_t pid = service.process().pid();
  const long idle_kib = resident_kib(pid);
  const auto start = Clock::now();
  const auto r = post_chat(service.port(), chat_body("sidechain", {}, "endless"));
  const double took = seconds_since(start);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "error"}));
  EXPECT_EQ(r.find("error")->data, kLlmFailed);
  EXPECT_GT(r.text.size(), 100u) << "tokens flowed until the cut";
  EXPECT_GT(took, 1.8);
  EXPECT_LT(took, 4.0);
  EXPECT_TRUE(
      eventually([&] { return fake.connections_closed_by_client() == 1; }, std::chrono::seconds(2)))
      << "the upstream connection was closed";
  EXPECT_EQ(redis.cli("EXISTS chrysopedia:chat:endless"), "0") << "a failed turn saves nothing";
  EXPECT_LT(peak_resident_kib(pid), idle_kib + kMemorySlackKib);
  EXPECT_TRUE(healthy(service.port()));
}

TEST_F(Faults, AFiftyMegabyteLineIsAnErrorEventNotMemory) {
  FakeLlmServer fake;
  auto line = openai_stream({"before"}, std::chrono::milliseconds(0), false, "", false);
  line.chunks.push_back(
      {std::chrono::milliseconds(0),
       R"(data: {"choices":[{"index":0,"delta":{"content":")" + std::string(50 << 20, 'a')});
  line.end = FakeReply::End::hang;
  fake.push(line);
  // The same size as an error body.
  auto body = error_reply(500, std::string(50 << 20, 'e'));
  fake.push(body);
  ServiceProcess service(env(&fake, nullptr, {{"LLM_MAX_RETRIES", "0"}}));
  const pid_t pid = service.process().pid();
  const long idle_kib = resident_kib(pid);

  const auto r = post_chat(service.port(), chat_body("sidechain"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "error"}));
  EXPECT_EQ(r.text, "before");
  EXPECT_EQ(r.find("error")->data, kLlmFailed);
  EXPECT_NE(service.process().output().find("longer than"), std::string::npos);
  EXPECT_TRUE(
      eventually([&] { return fake.connections_closed_by_client() == 1; }, std::chrono::seconds(5)))
      << "the upstream connection was closed";

  const auto r2 = post_chat(service.port(), chat_body("sidechain"));
  EXPECT_EQ(r2.names(), (std::vector<std::string>{"sources", "error"}));
  EXPECT_LT(peak_resident_kib(pid), idle_kib + kMemorySlackKib);

  EXPECT_EQ(post_chat(service.port(), chat_body("sidechain")).names(),
            (std::vector<std::string>{"sources", "token", "done"}));
}

TEST_F(Faults, InvalidUtf8FromTheModelIsReplacedAndTheStreamCompletes) {
  FakeLlmServer fake;
  FakeReply reply;
  // A truncated sequence, stray continuation bytes, an overlong form, a
  // surrogate encoded directly: none of it valid UTF-8.
  reply.chunks.push_back({std::chrono::milliseconds(0), delta_chunk("caf")});
  reply.chunks.push_back(
      {std::chrono::milliseconds(0),
       "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\xc3 \x80\xbf \xc0\xaf "
       "\xed\xa0\x80 ok \xe2\x82\xac\"}}]}\n\n"});
  reply.chunks.push_back(
      {std::chrono::milliseconds(0),
       chunk(
           {{"choices", {{{"index", 0}, {"delta", json::object()}, {"finish_reason", "stop"}}}}})});
  reply.chunks.push_back({std::chrono::milliseconds(0), "data: [DONE]\n\n"});
  fake.push(reply);
  TestRedis redis;
  ServiceProcess service(env(&fake, &redis));
  const auto r = post_chat(service.port(), chat_body("sidechain", {}, "utf8"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"sources", "token", "done"}));
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(r.text.substr(0, 3), "caf");
  EXPECT_NE(r.text.find(fffd), std::string::npos);
  EXPECT_NE(r.text.find(" ok \xe2\x82\xac"), std::string::npos) << "valid text around it is kept";
  EXPECT_NO_THROW(json::parse(json(r.text).dump())) << "what the client got is valid UTF-8";
  // And so is what was remembered.
  const auto stored = json::parse(redis.cli("GET chrysopedia:chat:utf8"));
  EXPECT_EQ(stored[1]["content"], r.text);
}

}  // namespace

// A fleet as scripts/fleet runs it (SPEC §11, issue 19): two replicas
// behind HAProxy, one Postgres, one Redis, clients going through the
// balancer only. Resume lands on the other replica, stop works whichever
// replica the balancer picks, the rate limit is one per client for the
// fleet, a replica killed mid-stream costs its readers an error and nobody
// else anything, and Redis restarted under open streams hangs nothing.
// With the script's own Postgres, searches read its hot standby, and a
// standby killed or fallen behind is skipped without a chat failing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "fakes/fake_llm_server.hpp"
#include "search/importer.hpp"
#include "support/chat_client.hpp"
#include "support/fleet_process.hpp"
#include "support/metrics_scrape.hpp"
#include "support/raw_client.hpp"
#include "support/sse_parser.hpp"
#include "support/test_database.hpp"
#include "support/test_redis.hpp"

using namespace chrysopedia::test;
using nlohmann::json;

namespace {

class Fleet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { db_ = new TestDatabase(); }
  static void TearDownTestSuite() { delete db_; }

  std::map<std::string, std::string> env(const FakeLlmServer& fake, const TestRedis& redis,
                                         std::map<std::string, std::string> extra = {}) {
    extra.emplace("DATABASE_URL", db_->url());
    extra.emplace("LLM_API_URL", fake.url());
    extra.emplace("REDIS_URL", redis.url());
    return extra;
  }
  static TestDatabase* db_;
};

TestDatabase* Fleet::db_ = nullptr;

// A whole chat through the balancer.
RawClient::Response chat(std::uint16_t port) {
  RawClient c(port);
  c.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                      "Content-Type: application/json\r\n"));
  return c.read_response(std::chrono::seconds(15));
}

// A chat through the balancer, read up to its first `events` events.
struct OpenChat {
  RawClient client;
  RawClient::Response head;
  std::string seen;
  OpenChat(std::uint16_t port, std::size_t events, const std::string& question = "sidechain")
      : client(port) {
    client.send(make_request("POST", "/api/v1/chat", chat_body(question),
                             "Content-Type: application/json\r\n"));
    head = client.read_head();
    while (parse_sse(seen).size() < events) seen += *client.read_chunk();
  }
  std::string id() const { return head.header("chrysopedia-stream-id"); }
  std::string replica() const { return head.header("x-chrysopedia-replica"); }
  std::string last_id() const { return parse_sse(seen).back().id; }
  // The rest of the stream, to its end.
  std::vector<SseEvent> finish(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    while (auto chunk = client.read_chunk(timeout)) seen += *chunk;
    return parse_sse(seen);
  }
};

}  // namespace

TEST_F(Fleet, AStreamResumesOnTheOtherReplicaAndAStopThroughTheBalancerEndsIt) {
  FakeLlmServer fake;
  fake.set_default(openai_stream(numbered_deltas(300), std::chrono::milliseconds(20)));
  TestRedis redis;
  FleetProcess fleet(env(fake, redis), 2);

  OpenChat chat(fleet.port(), 4);
  ASSERT_EQ(chat.id().size(), 32u) << fleet.post_mortem();
  ASSERT_FALSE(chat.replica().empty());

  // The balancer sends the next connection to the replica with the fewest
  // open: the other one, which has never seen this stream.
  RawClient resumer(fleet.port());
  resumer.send(make_request("GET", "/api/v1/chat/streams/" + chat.id(), "",
                            "Last-Event-ID: " + chat.last_id() + "\r\n"));
  const auto resumed = resumer.read_head();
  ASSERT_EQ(resumed.status, 200);
  EXPECT_NE(resumed.header("x-chrysopedia-replica"), chat.replica())
      << "resumed on the replica that does not generate it";
  std::string live;
  while (parse_sse(live).size() < 10) live += *resumer.read_chunk();

  RawClient stopper(fleet.port());
  stopper.send(make_request("POST", "/api/v1/chat/streams/" + chat.id() + "/stop"));
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(stopper.read_response().status, 204);
  const auto events = chat.finish();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.back().event, "done");
  EXPECT_EQ(json::parse(events.back().data)["stopped"], true);
  EXPECT_LT(took, 1.0);
  EXPECT_LT(events.size(), 200u) << "stopped long before the answer's 300 tokens";

  // The reader on the other replica gets the same stream to the same end.
  while (auto chunk = resumer.read_chunk(std::chrono::seconds(5))) live += *chunk;
  const auto followed = parse_sse(live);
  ASSERT_FALSE(followed.empty());
  EXPECT_EQ(followed.back(), events.back());
  EXPECT_EQ(followed.front().id, events[4].id) << "from just after the id it gave";
  EXPECT_EQ(followed.size(), events.size() - 4);
}

TEST_F(Fleet, TheRateLimitIsOnePerClientWhicheverReplicaAnswers) {
  FakeLlmServer fake;
  fake.set_default(openai_stream({"Short", " answer."}, std::chrono::milliseconds(0)));
  TestRedis redis;
  FleetProcess fleet(
      env(fake, redis, {{"CHAT_RATE_LIMIT_PER_MINUTE", "1"}, {"CHAT_RATE_LIMIT_BURST", "3"}}), 2);

  std::vector<int> statuses;
  std::set<std::string> replicas;
  for (int i = 0; i < 5; ++i) {
    const auto r = chat(fleet.port());
    statuses.push_back(r.status);
    replicas.insert(r.header("x-chrysopedia-replica"));
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 429, 429})) << fleet.post_mortem();
  EXPECT_EQ(replicas.size(), 2u) << "both replicas answered, and counted one bucket";
}

TEST_F(Fleet, AReplicaKilledMidStreamCostsItsReadersAnErrorAndNobodyElseAnything) {
  FakeLlmServer fake;
  fake.set_default(openai_stream(numbered_deltas(400), std::chrono::milliseconds(25)));
  TestRedis redis;
  FleetProcess fleet(env(fake, redis, {{"CHAT_STREAM_LIVENESS_SECONDS", "2"}}), 2);

  OpenChat chat(fleet.port(), 4);
  ASSERT_EQ(chat.id().size(), 32u) << fleet.post_mortem();
  RawClient reader(fleet.port());
  reader.send(make_request("GET", "/api/v1/chat/streams/" + chat.id(), "",
                           "Last-Event-ID: " + chat.last_id() + "\r\n"));
  ASSERT_EQ(reader.read_head().status, 200);

  ASSERT_EQ(::kill(fleet.replica(chat.replica()).pid, SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  std::string got;
  while (auto chunk = reader.read_chunk(std::chrono::seconds(10))) got += *chunk;
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  const auto events = parse_sse(got);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "error");
  EXPECT_EQ(events.back().data, R"({"message":"Stream interrupted"})");
  EXPECT_LT(took, 2.0 + 2.0) << "within the liveness time and a check";

  // New chats go on at once: the balancer retries a connection the dead
  // replica refuses on the live one, and soon stops sending it any.
  for (int i = 0; i < 6; ++i) {
    RawClient c(fleet.port());
    c.send(make_request("POST", "/api/v1/chat", chat_body("sidechain"),
                        "Content-Type: application/json\r\n"));
    const auto head = c.read_head(std::chrono::seconds(10));
    EXPECT_EQ(head.status, 200) << "chat " << i << ": " << fleet.post_mortem();
    c.close();
  }
}

TEST_F(Fleet, RedisRestartedUnderOpenStreamsHangsNothingAndChatsGoOnWithoutResume) {
  FakeLlmServer fake;
  fake.set_default(openai_stream(numbered_deltas(60), std::chrono::milliseconds(25)));
  TestRedis redis;
  FleetProcess fleet(env(fake, redis), 2);

  OpenChat a(fleet.port(), 4);
  OpenChat b(fleet.port(), 4);
  ASSERT_EQ(a.id().size(), 32u) << fleet.post_mortem();
  ASSERT_NE(a.replica(), b.replica());
  redis.stop();
  // Both open streams end (their journal lost: done or an error, never a
  // hang), and new chats are answered whole, without ids.
  for (auto* open : {&a, &b}) {
    const auto events = open->finish(std::chrono::seconds(10));
    ASSERT_FALSE(events.empty());
    EXPECT_TRUE(events.back().event == "done" || events.back().event == "error")
        << events.back().event;
  }
  fake.set_default(openai_stream({"Short", " answer."}, std::chrono::milliseconds(0)));
  for (int i = 0; i < 4; ++i) {
    const auto r = chat(fleet.port());
    EXPECT_EQ(r.status, 200);
    const auto events = parse_sse(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().event, "done") << "chat " << i << " with Redis away";
  }
  // Redis back: streams get ids again, through either replica (each
  // reconnects within its backoff, at most 5 s).
  redis.start();
  std::set<std::string> resumable_on;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (resumable_on.size() < 2 && std::chrono::steady_clock::now() < until) {
    const auto r = chat(fleet.port());
    if (r.header("chrysopedia-stream-id").size() == 32) {
      resumable_on.insert(r.header("x-chrysopedia-replica"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(resumable_on.size(), 2u) << "both replicas resume again once Redis is back";
}

namespace {

// What the fleet's replicas' /metrics say a counter is, summed.
double fleet_counter(const FleetProcess& fleet, const std::string& series) {
  double sum = 0;
  for (const auto& r : fleet.replicas()) {
    RawClient c(r.port);
    c.send(make_request("GET", "/metrics", ""));
    sum += std::max(0.0, metric_sample(c.read_response().body, series));  // -1: not yet counted
  }
  return sum;
}

const std::string kStandbyReads = R"(chrysopedia_search_reads_total{server="standby"})";
const std::string kPrimaryReads = R"(chrysopedia_search_reads_total{server="primary"})";

// A whole chat through the balancer that ended as a chat should: its
// sources, then `done`, no error; or why not.
std::string chat_failure(std::uint16_t port, const std::string& question) {
  try {
    RawClient c(port);
    c.send(make_request("POST", "/api/v1/chat", chat_body(question),
                        "Content-Type: application/json\r\n"));
    const auto r = c.read_response(std::chrono::seconds(15));
    const auto events = parse_sse(r.body);
    if (r.status != 200 || events.empty() || events.front().event != "sources" ||
        events.back().event != "done") {
      return "status " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
    }
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

// Chats until a search has read the standby. By time, not by count: a
// replica whose first check found the standby not yet streaming asks again
// only after ReplicaSet::kRetryFailedAfter, and a loaded machine may take
// that long.
bool chat_until_the_standby_reads(const FleetProcess& fleet) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (fleet_counter(fleet, kStandbyReads) == 0) {
    if (std::chrono::steady_clock::now() > until) return false;
    if (const auto failure = chat_failure(fleet.port(), "sidechain"); !failure.empty()) {
      ADD_FAILURE() << "a chat failed: " << failure;
      return false;
    }
  }
  return true;
}

}  // namespace

// SPEC §11: searches read from the fleet's hot standby; killed under load,
// it costs no chat anything (a search it fails is run on the primary, and
// it is skipped from then on).
TEST_F(Fleet, SearchesReadTheStandbyAndAStandbyKilledUnderLoadFailsNoChat) {
  FakeLlmServer fake;
  fake.set_default(openai_stream(numbered_deltas(4), std::chrono::milliseconds(5)));
  TestRedis redis;
  FleetProcess fleet({{"LLM_API_URL", fake.url()}, {"REDIS_URL", redis.url()}}, 2);
  ASSERT_FALSE(fleet.standby_url().empty()) << fleet.post_mortem();
  ASSERT_GT(fleet.standby_pid(), 0);

  ASSERT_TRUE(chat_until_the_standby_reads(fleet)) << fleet.post_mortem();
  const double primary_before = fleet_counter(fleet, kPrimaryReads);

  std::atomic<bool> stop{false};
  std::atomic<int> chats{0};
  std::mutex mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      const char* questions[] = {"sidechain", "reverb on vocals", "kick and bass"};
      while (!stop) {
        auto failure = chat_failure(fleet.port(), questions[t]);
        ++chats;
        if (!failure.empty()) {
          std::lock_guard lock(mutex);
          failures.push_back(std::move(failure));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int before_kill = chats;
  ASSERT_EQ(::kill(fleet.standby_pid(), SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  stop = true;
  for (auto& c : clients) c.join();

  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, the first: " << failures.front()
                                << "\n"
                                << fleet.post_mortem();
  EXPECT_GT(before_kill, 3);
  EXPECT_GT(chats - before_kill, 10) << "chats went on after the kill";
  EXPECT_GT(fleet_counter(fleet, kPrimaryReads), primary_before) << "the primary took over";
}

// A standby that stops replaying falls behind: once it is further behind
// than DATABASE_REPLICA_MAX_LAG_SECONDS, searches skip it, and a page
// imported since is found (on the primary).
TEST_F(Fleet, AStandbyFallenBehindIsSkippedAndNewPagesAreFound) {
  FakeLlmServer fake;
  fake.set_default(openai_stream(numbered_deltas(4), std::chrono::milliseconds(5)));
  TestRedis redis;
  FleetProcess fleet({{"LLM_API_URL", fake.url()},
                      {"REDIS_URL", redis.url()},
                      {"DATABASE_REPLICA_MAX_LAG_SECONDS", "1"}},
                     1);
  ASSERT_FALSE(fleet.standby_url().empty()) << fleet.post_mortem();
  ASSERT_TRUE(chat_until_the_standby_reads(fleet)) << fleet.post_mortem();

  {
    pqxx::connection standby(fleet.standby_url());
    pqxx::nontransaction(standby).exec("SELECT pg_wal_replay_pause()");
  }
  {
    pqxx::connection primary(fleet.primary_url());
    std::istringstream page(
        page_line("zebra-page", "Zebra page", "c", "C", "mixing", "the zebrafoo technique", "[]"));
    ASSERT_TRUE(chrysopedia::search::import_pages(primary, page).bad_lines.empty());
  }
  bool found = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (!found && std::chrono::steady_clock::now() < until) {
    RawClient c(fleet.port());
    c.send(make_request("POST", "/api/v1/chat", chat_body("zebrafoo"),
                        "Content-Type: application/json\r\n"));
    found = c.read_response(std::chrono::seconds(15)).body.find("zebra-page") != std::string::npos;
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(found) << "searches still went to the paused standby\n" << fleet.post_mortem();
}

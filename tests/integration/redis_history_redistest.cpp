// Conversation memory against real Redis servers (each test its own):
// format, cap, TTL, garbage, overlapping appends, restarts, pauses, AUTH,
// database selection and unix sockets; the connection subscribed to a
// channel, and a stream's stop reaching its writer through it.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "chrysopedia/config/redis_url.hpp"
#include "history/redis_connection.hpp"
#include "history/redis_history_store.hpp"
#include "history/redis_rate_limit.hpp"
#include "history/redis_stream_journal.hpp"
#include "support/test_redis.hpp"
#include "support/waiting.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
using history::Message;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

/// A connection and a store on a private loop; `run` drives a coroutine.
struct Memory {
  explicit Memory(const std::string& url, history::RedisHistoryOptions options = {})
      : connection(ctx, *config::parse_redis_url(url)), store(connection, options) {}

  template <typename F>
  void run(F body) {
    bool finished = false;
    net::co_spawn(
        ctx,
        [&]() -> net::awaitable<void> {
          co_await body();
          finished = true;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    while (!finished) ctx.run_one_for(std::chrono::milliseconds(50));
  }

  std::vector<Message> load(const std::string& id) {
    std::vector<Message> out;
    run([&]() -> net::awaitable<void> { out = co_await store.load(id); });
    return out;
  }
  std::optional<std::string> load_error(const std::string& id) {
    std::optional<std::string> error;
    run([&]() -> net::awaitable<void> {
      try {
        co_await store.load(id);
      } catch (const history::HistoryError& e) {
        error = e.what();
      }
    });
    return error;
  }
  void append(const std::string& id, const std::string& user, const std::string& assistant) {
    run([&]() -> net::awaitable<void> { co_await store.append_turn(id, user, assistant); });
  }
  /// Waits (driving the loop) until the connection is up again.
  bool wait_connected(std::chrono::milliseconds within) {
    return run_until(
        ctx, [&] { return connection.connected(); }, within);
  }

  net::io_context ctx;
  history::RedisConnection connection;
  history::RedisHistoryStore store;
};

}  // namespace

TEST(RedisHistory, AMissingConversationIsEmpty) {
  TestRedis redis;
  Memory m(redis.url());
  EXPECT_TRUE(m.load("nobody").empty());
}

TEST(RedisHistory, StoresTheReferenceFormat) {
  TestRedis redis;
  Memory m(redis.url());
  m.append("c1", "How do I sidechain? ✓", "Key the compressor [1].\n\nThen…");
  const auto raw = redis.cli("--no-raw GET chrysopedia:chat:c1");
  const auto doc = nlohmann::json::parse(redis.cli("GET chrysopedia:chat:c1"));
  ASSERT_TRUE(doc.is_array()) << raw;
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0], (nlohmann::json{{"role", "user"}, {"content", "How do I sidechain? ✓"}}));
  EXPECT_EQ(doc[1], (nlohmann::json{{"role", "assistant"},
                                    {"content", "Key the compressor [1].\n\nThen…"}}));
  EXPECT_EQ(m.load("c1"),
            (std::vector<Message>{{"user", "How do I sidechain? ✓"},
                                  {"assistant", "Key the compressor [1].\n\nThen…"}}));
}

TEST(RedisHistory, ReadsWhatTheReferenceServiceWrote) {
  TestRedis redis;
  redis.cli(
      R"(SET chrysopedia:chat:old '[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]')");
  Memory m(redis.url());
  EXPECT_EQ(m.load("old"), (std::vector<Message>{{"user", "hi"}, {"assistant", "hello"}}));
  m.append("old", "next", "answer");
  EXPECT_EQ(m.load("old").size(), 4u);
}

TEST(RedisHistory, KeepsOnlyTheLastTwentyMessages) {
  TestRedis redis;
  Memory m(redis.url());
  for (int i = 1; i <= 12; ++i) m.append("c", "q" + std::to_string(i), "a" + std::to_string(i));
  const auto messages = m.load("c");
  ASSERT_EQ(messages.size(), 20u);
  EXPECT_EQ(messages.front(), (Message{"user", "q3"}));
  EXPECT_EQ(messages.back(), (Message{"assistant", "a12"}));
}

TEST(RedisHistory, TtlIsSetAndRefreshedOnEveryTurn) {
  TestRedis redis;
  Memory m(redis.url());
  m.append("c", "q", "a");
  EXPECT_GE(std::stoi(redis.cli("TTL chrysopedia:chat:c")), 3590);
  redis.cli("EXPIRE chrysopedia:chat:c 10");
  EXPECT_LE(std::stoi(redis.cli("TTL chrysopedia:chat:c")), 10);
  m.append("c", "q2", "a2");
  EXPECT_GE(std::stoi(redis.cli("TTL chrysopedia:chat:c")), 3590);
}

TEST(RedisHistory, GarbageUnderTheKeyIsAnErrorOnLoadAndReplacedOnAppend) {
  TestRedis redis;
  Memory m(redis.url());
  for (const std::string garbage :
       {"'not json'", "'{\"role\": \"user\"}'", "42", "'[1, 2]'", "'[{\"role\": 5}]'",
        "'[{\"role\": \"system\", \"content\": \"x\"}]'", "'\"a string\"'"}) {
    redis.cli("SET chrysopedia:chat:g " + garbage);
    EXPECT_TRUE(m.load_error("g")) << garbage;
    m.append("g", "q", "a");
    EXPECT_EQ(m.load("g"), (std::vector<Message>{{"user", "q"}, {"assistant", "a"}})) << garbage;
  }
  redis.cli("DEL chrysopedia:chat:g");
  redis.cli("HSET chrysopedia:chat:g field value");
  EXPECT_TRUE(m.load_error("g")) << "a key of the wrong type";
}

TEST(RedisHistory, OverlappingAppendsAreAllKeptInOrderOfCompletion) {
  TestRedis redis;
  history::RedisHistoryOptions options;
  options.max_messages = 1000;
  Memory a(redis.url(), options);
  Memory b(redis.url(), options);  // a second connection, as another event loop would have
  auto many = [](Memory& m, const std::string& who) {
    int done = 0;
    for (int i = 0; i < 50; ++i) {
      net::co_spawn(
          m.ctx,
          [&m, &done, who, i]() -> net::awaitable<void> {
            co_await m.store.append_turn("shared", who + std::to_string(i),
                                         "answer " + who + std::to_string(i));
            ++done;
          },
          net::detached);
    }
    while (done < 50) m.ctx.run_one_for(std::chrono::milliseconds(50));
  };
  std::thread other([&] { many(b, "b"); });
  many(a, "a");
  other.join();
  const auto messages = a.load("shared");
  ASSERT_EQ(messages.size(), 200u) << "no turn lost";
  for (std::size_t i = 0; i < messages.size(); i += 2) {
    EXPECT_EQ(messages[i].role, "user");
    EXPECT_EQ(messages[i + 1].content, "answer " + messages[i].content) << "each turn stays whole";
  }
}

TEST(RedisHistory, RedisDownFailsFastAndMemoryResumesAfterARestart) {
  TestRedis redis;
  Memory m(redis.url());
  m.append("c", "before", "restart");
  redis.stop();
  const auto start = Clock::now();
  EXPECT_TRUE(m.load_error("c"));
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(400));
  redis.start();  // same port, empty (no persistence)
  ASSERT_TRUE(m.wait_connected(std::chrono::seconds(10)));
  m.append("c", "after", "restart");
  EXPECT_EQ(m.load("c"), (std::vector<Message>{{"user", "after"}, {"assistant", "restart"}}));
}

TEST(RedisHistory, APausedRedisTimesOutQuickly) {
  TestRedis redis;
  Memory m(redis.url());
  m.append("c", "q", "a");
  redis.pause();
  const auto start = Clock::now();
  const auto error = m.load_error("c");
  const auto took = Clock::now() - start;
  redis.resume();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("did not answer"), std::string::npos) << *error;
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::milliseconds(600));
  EXPECT_EQ(m.load("c").size(), 2u) << "and answers again once resumed";
}

TEST(RedisHistory, AuthWithPasswordAndUser) {
  TestRedis redis({"--requirepass", "s3cret"});
  {
    Memory m(redis.url(":s3cret"));
    m.append("c", "q", "a");
    EXPECT_EQ(m.load("c").size(), 2u);
  }
  {
    Memory m(redis.url("default:s3cret"));
    EXPECT_EQ(m.load("c").size(), 2u);
  }
  {
    Memory wrong(redis.url(":nope"));
    EXPECT_TRUE(wrong.load_error("c"));
  }
}

TEST(RedisHistory, SelectsTheDatabaseInTheUrl) {
  TestRedis redis;
  Memory m(redis.url("", 3));
  m.append("c", "q", "a");
  EXPECT_EQ(redis.cli("-n 3 EXISTS chrysopedia:chat:c"), "1");
  EXPECT_EQ(redis.cli("-n 0 EXISTS chrysopedia:chat:c"), "0");
}

TEST(RedisHistory, ConnectsOverAUnixSocket) {
  TestRedis redis;
  Memory m("unix://" + redis.socket_path() + "?db=2");
  m.append("c", "q", "a");
  EXPECT_EQ(redis.cli("-n 2 EXISTS chrysopedia:chat:c"), "1");
}

TEST(RedisHistory, GetAndRemove) {
  TestRedis redis;
  Memory m(redis.url());
  std::optional<std::vector<Message>> got;
  m.run([&]() -> net::awaitable<void> { got = co_await m.store.get("x"); });
  EXPECT_FALSE(got);
  m.append("x", "q", "a");
  m.run([&]() -> net::awaitable<void> { got = co_await m.store.get("x"); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 2u);
  m.run([&]() -> net::awaitable<void> { co_await m.store.remove("x"); });
  m.run([&]() -> net::awaitable<void> { co_await m.store.remove("x"); });  // absent is fine
  EXPECT_EQ(redis.cli("EXISTS chrysopedia:chat:x"), "0");
}

TEST(RedisHistory, ALongConversationLoadsWhole) {
  // Far more than hiredis reads per call: every byte must be read although
  // Asio's reactor reports readiness only once (edge-triggered).
  TestRedis redis;
  history::RedisHistoryOptions options;
  options.max_messages = 40;
  Memory m(redis.url(), options);
  const std::string long_answer(60 * 1024, 'x');
  for (int i = 0; i < 10; ++i) m.append("long", "q" + std::to_string(i), long_answer);
  const auto start = Clock::now();
  const auto messages = m.load("long");
  EXPECT_EQ(messages.size(), 20u);
  EXPECT_EQ(messages.back().content.size(), long_answer.size());
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(200));
}

// The fleet's rate-limit buckets (SPEC §11) in a real Redis: the burst,
// the refusal with its retry, the refill on Redis's clock, and no answer
// (not a refusal) when Redis is gone.
TEST(RedisRateLimit, ABucketHoldsItsBurstRefillsAndIsNoAnswerWithoutRedis) {
  auto redis = std::make_unique<TestRedis>();
  Memory m(redis->url());
  ASSERT_TRUE(m.wait_connected(std::chrono::seconds(2)));
  history::RedisRateLimit buckets(m.connection);
  const auto take = [&](double per_minute, double burst) {
    std::optional<history::RedisRateLimit::Taken> out;
    m.run([&]() -> net::awaitable<void> {
      out = co_await buckets.take("10.0.0.1", per_minute, burst);
    });
    return out;
  };
  // 60 a minute, burst 2: two, then refused for a second.
  EXPECT_TRUE(take(60, 2)->allowed);
  EXPECT_TRUE(take(60, 2)->allowed);
  const auto refused = take(60, 2);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->retry_after, std::chrono::seconds(1));
  const auto ttl = std::stoll(redis->cli("PTTL chrysopedia:rate:10.0.0.1"));
  EXPECT_GT(ttl, 1000);
  EXPECT_LE(ttl, 3000) << "gone once it would be full again";
  // After a second, one more.
  std::this_thread::sleep_for(std::chrono::milliseconds(1050));
  EXPECT_TRUE(take(60, 2)->allowed);
  EXPECT_FALSE(take(60, 2)->allowed);

  redis.reset();
  EXPECT_FALSE(take(60, 2).has_value()) << "no answer: the caller's own table decides";
}

// The connection writes a command at once instead of waiting for the
// socket to be writable (issue 20): a command far larger than the socket's
// buffer still goes out whole (the rest waits for room), and commands
// issued together in one turn of the loop all get their own replies.
TEST(RedisConnection, ACommandLargerThanTheSocketBufferIsWrittenWhole) {
  TestRedis redis;
  Memory m(redis.url());
  const std::string big(24 << 20, 'v');
  std::string got;
  m.run([&]() -> net::awaitable<void> {
    std::vector<std::string> set = {"SET", "big", big};
    co_await m.connection.command(std::move(set), std::chrono::seconds(20));
    std::vector<std::string> get = {"GET", "big"};
    got = (co_await m.connection.command(std::move(get), std::chrono::seconds(20))).str;
  });
  EXPECT_EQ(got.size(), big.size());
  EXPECT_EQ(got, big);
}

TEST(RedisConnection, CommandsIssuedInOneTurnAllGetTheirOwnReplies) {
  TestRedis redis;
  Memory m(redis.url());
  ASSERT_TRUE(m.wait_connected(std::chrono::seconds(5)));
  constexpr int kCommands = 500;
  std::vector<long long> replies(kCommands, -1);
  int done = 0;
  for (int i = 0; i < kCommands; ++i) {
    net::co_spawn(
        m.ctx,
        [&, i]() -> net::awaitable<void> {
          std::vector<std::string> incr = {"INCRBY", "n", std::to_string(i + 1)};
          const auto r = co_await m.connection.command(std::move(incr), std::chrono::seconds(10));
          replies[i] = r.integer;
          ++done;
        },
        net::detached);
  }
  run_until(
      m.ctx, [&] { return done == kCommands; }, std::chrono::seconds(10));
  ASSERT_EQ(done, kCommands);
  // In order of issue: each reply is the running sum up to its command.
  for (int i = 0; i < kCommands; ++i) EXPECT_EQ(replies[i], (i + 1) * (i + 2) / 2) << i;
}

namespace {

// How many times Redis has run `command` (lower case), scripts' calls included.
int command_calls(TestRedis& redis, const std::string& command) {
  const auto stats = redis.cli("INFO commandstats");
  const auto name = "cmdstat_" + command + ":calls=";
  const auto at = stats.find(name);
  return at == std::string::npos ? 0 : std::stoi(stats.substr(at + name.size()));
}

}  // namespace

TEST(RedisConnection, ASubscribedConnectionHearsEachMessageAndSubscribesAgainAfterARestart) {
  TestRedis redis;
  net::io_context ctx;
  history::RedisConnection subscriber(ctx, *config::parse_redis_url(redis.url()));
  std::vector<std::string> heard;
  subscriber.subscribe("chan", [&](const std::string& m) { heard.push_back(m); });
  const auto subscribed = [&] { return redis.cli("PUBSUB NUMSUB chan").ends_with("1"); };
  ASSERT_TRUE(run_until(ctx, subscribed, 5000ms));
  EXPECT_EQ(redis.cli("PUBLISH chan one"), "1");
  ASSERT_TRUE(run_until(
      ctx, [&] { return !heard.empty(); }, 2000ms));
  EXPECT_EQ(heard, std::vector<std::string>{"one"});

  redis.stop();
  redis.start();
  ASSERT_TRUE(run_until(ctx, subscribed, 10000ms)) << "subscribed again on the new connection";
  EXPECT_EQ(redis.cli("PUBLISH chan two"), "1");
  ASSERT_TRUE(run_until(
      ctx, [&] { return heard.size() == 2; }, 2000ms));
  EXPECT_EQ(heard, (std::vector<std::string>{"one", "two"}));
}

TEST(RedisStreamJournal, AStopFromAnotherReplicaReachesTheWriterAtOnceWithNoBatchBetween) {
  TestRedis redis;
  net::io_context ctx;
  const auto endpoint = *config::parse_redis_url(redis.url());
  // The writing replica: the liveness (and so its heartbeat batch) far off.
  history::RedisConnection a_commands(ctx, endpoint);
  history::RedisConnection a_stops(ctx, endpoint);
  history::RedisStreamOptions options;
  options.liveness = std::chrono::seconds(60);
  history::RedisStreamJournal a(ctx, a_commands, options, &a_stops);
  // Another replica, asking the stop.
  history::RedisConnection b_commands(ctx, endpoint);
  history::RedisStreamJournal b(ctx, b_commands, options);
  ASSERT_TRUE(run_until(
      ctx, [&] { return a_commands.connected() && b_commands.connected() && a_stops.connected(); },
      5000ms));
  ASSERT_TRUE(run_until(
      ctx,
      [&] {
        return redis.cli("PUBSUB NUMSUB " + std::string(history::kStopChannel)).ends_with("1");
      },
      5000ms));

  auto writer = a.open("");
  ASSERT_TRUE(writer);
  int calls = 0;
  writer->on_stop([&] { ++calls; });
  writer->append("token", "x");
  // The stream exists once its first batch is in.
  ASSERT_TRUE(run_until(
      ctx, [&] { return redis.cli("EXISTS " + history::stream_key("", writer->id())) == "1"; },
      2000ms));
  ctx.run_for(std::chrono::milliseconds(100));  // nothing in flight now

  std::optional<history::StopOutcome> outcome;
  net::co_spawn(
      ctx, [&]() -> net::awaitable<void> { outcome = co_await b.stop("", writer->id()); },
      net::detached);
  const auto asked = Clock::now();
  ASSERT_TRUE(run_until(
      ctx, [&] { return calls > 0; }, 2000ms));
  EXPECT_LT(Clock::now() - asked, std::chrono::milliseconds(500));
  EXPECT_EQ(outcome, history::StopOutcome::stopping);
  EXPECT_TRUE(writer->stop_requested());
  ctx.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(calls, 1) << "once";
}

// A journal on a Redis of its own, its connection made: what the batch
// tests start from.
class JournalBatches : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(run_until(
        ctx, [&] { return commands.connected(); }, 5000ms));
  }
  // A writer of `j` once its key `key` (of the writer's id) is in Redis.
  std::unique_ptr<history::StreamWriter> opened(history::RedisStreamJournal& j,
                                                std::string (*key)(const std::string&,
                                                                   const std::string&)) {
    auto writer = j.open("");
    EXPECT_TRUE(run_until(
        ctx, [&] { return redis.cli("EXISTS " + key("", writer->id())) == "1"; }, 2000ms));
    return writer;
  }
  TestRedis redis;
  net::io_context ctx;
  history::RedisConnection commands{ctx, *config::parse_redis_url(redis.url())};
  history::RedisStreamJournal journal{ctx, commands, {}};
};

TEST_F(JournalBatches, TheStreamsOfALoopGoToRedisTogetherOnceATick) {
  std::vector<std::unique_ptr<history::StreamWriter>> writers;
  for (int i = 0; i < 5; ++i) writers.push_back(journal.open(""));
  const auto evals = [&] { return command_calls(redis, "eval"); };
  const auto kept = [&](const history::StreamWriter& w) {
    return std::stoi(redis.cli("XLEN " + history::stream_key("", w.id())));
  };
  // Each stream's first batch goes at once (its key exists from then on).
  ASSERT_TRUE(run_until(
      ctx,
      [&] {
        return std::all_of(writers.begin(), writers.end(), [&](auto& w) { return kept(*w) == 1; });
      },
      2000ms));
  ctx.run_for(100ms);
  const int before = evals();

  for (auto& w : writers) {
    w->append("token", "a");
    w->append("token", "b");
  }
  const std::string ended = writers.back()->id();
  writers.back()->finish();
  writers.pop_back();  // its last batch goes all the same
  ASSERT_TRUE(run_until(
      ctx, [&] { return evals() > before; }, 2000ms));
  ctx.run_for(100ms);
  EXPECT_EQ(evals(), before + 1) << "one script call for the five streams' batches";
  for (auto& w : writers) EXPECT_EQ(kept(*w), 3) << "the opening entry and two events";
  const auto ttl = std::stoi(redis.cli("TTL " + history::stream_key("", writers.front()->id())));
  EXPECT_GT(ttl, 300) << "an open stream keeps the open TTL";
  EXPECT_EQ(std::stoi(redis.cli("XLEN " + history::stream_key("", ended))), 3);
  const auto retention = std::stoi(redis.cli("TTL " + history::stream_key("", ended)));
  EXPECT_GT(retention, 0);
  EXPECT_LE(retention, 300) << "an ended stream is kept for the retention";
}

// At a model's pace a batch is a token or two: what else a batch may do
// (make the key, refresh liveness, renew the TTL, read the stop flag and
// readers' mark) is done only as often as it matters, not per token.
// Issue 20: an event after a quiet window goes at the end of its turn of
// the loop, not a window later (a timer and its wake-up a token at a
// model's slow pace); what follows within the window waits for it. A
// window of 10 s makes the difference plain.
TEST_F(JournalBatches, AfterAQuietWindowABatchGoesAtOnceAndTheNextWaitsForTheWindow) {
  history::RedisStreamOptions options;
  options.batch_window = 10s;
  history::RedisStreamJournal slow{ctx, commands, options};
  auto writer = opened(slow, history::stream_key);
  const std::string key = history::stream_key("", writer->id());
  const auto kept = [&] { return std::stoi(redis.cli("XLEN " + key)); };
  writer->append("token", "a");  // no batch for a window: the first goes now
  ASSERT_TRUE(run_until(
      ctx, [&] { return kept() == 2; }, 2000ms))
      << "not held for the 10 s window";
  writer->append("token", "b");
  ctx.run_for(300ms);
  EXPECT_EQ(kept(), 2) << "within the window, the next batch waits for it";
}

// While the model is silent a stream still says it is alive: a batch with
// no event every half liveness time refreshes its liveness key (which
// expires a liveness time after the last refresh), until the stream ends.
TEST_F(JournalBatches, ASilentStreamStaysAliveUntilItEnds) {
  history::RedisStreamOptions options;
  options.liveness = 1s;
  history::RedisStreamJournal journal_of_silence{ctx, commands, options};
  auto writer = opened(journal_of_silence, history::alive_key);
  const std::string alive = history::alive_key("", writer->id());
  for (int i = 0; i < 6; ++i) {  // three liveness times with no event
    ctx.run_for(500ms);
    EXPECT_EQ(redis.cli("EXISTS " + alive), "1") << "after " << (i + 1) * 500 << " ms";
  }
  writer->finish();
  writer.reset();
  ctx.run_for(1500ms);
  EXPECT_EQ(redis.cli("EXISTS " + alive), "0") << "an ended stream's heartbeat stops";
}

// A loop that shuts down destroys its streams' frames after the journal:
// a writer's last event then has nowhere to go, and queued on the batch
// tick it tied writer and tick in a cycle (the sanitizer run's leak).
TEST_F(JournalBatches, AWriterThatOutlivesItsJournalQueuesNothing) {
  std::unique_ptr<history::StreamWriter> writer;
  {
    history::RedisStreamJournal gone{ctx, commands, {}};
    writer = gone.open("");
    const std::string key = history::stream_key("", writer->id());
    ASSERT_TRUE(run_until(
        ctx, [&] { return redis.cli("EXISTS " + key) == "1"; }, 2000ms));
    ctx.run_for(100ms);  // nothing in flight now
  }
  ctx.poll();
  writer->append("token", "late");
  EXPECT_EQ(ctx.poll(), 0u) << "no batch was queued for a journal that is gone";
  writer.reset();
  ctx.poll();
}

TEST_F(JournalBatches, AtAModelsPaceABatchIsLittleMoreThanItsEvents) {
  const auto calls = [&](const std::string& command) { return command_calls(redis, command); };
  auto writer = journal.open("");
  const std::string key = history::stream_key("", writer->id());
  ASSERT_TRUE(run_until(
      ctx, [&] { return redis.cli("EXISTS " + key) == "1"; }, 2000ms));
  const int xadd = calls("xadd"), set = calls("set"), pexpire = calls("pexpire"),
            exists = calls("exists");
  // 20 tokens 30 ms apart: a batch each (the tick is 25 ms).
  for (int i = 0; i < 20; ++i) {
    writer->append("token", "t" + std::to_string(i));
    ctx.run_for(30ms);
  }
  ctx.run_for(100ms);
  EXPECT_EQ(std::stoi(redis.cli("XLEN " + key)), 21) << "every event kept";
  EXPECT_EQ(calls("xadd") - xadd, 20);
  EXPECT_LE(calls("set") - set, 1) << "liveness refreshed every 1.25 s, not per batch";
  EXPECT_EQ(calls("pexpire") - pexpire, 0) << "the open TTL renewed every minute";
  EXPECT_LE(calls("exists") - exists, 8) << "stop flag and readers read every 250 ms";
  EXPECT_GT(std::stoi(redis.cli("TTL " + key)), 300) << "the open TTL holds";
  EXPECT_EQ(redis.cli("EXISTS " + history::alive_key("", writer->id())), "1") << "alive";
}

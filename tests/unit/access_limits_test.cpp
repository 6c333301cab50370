// The abuse limits' parts without a server: token-bucket arithmetic on an
// injected clock, the bucket table's bound, key comparison, client
// addresses behind proxies, the stream cap and the guard's verdicts.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "fakes/fake_exchange.hpp"
#include "http/access_guard.hpp"
#include "http/api_keys.hpp"
#include "http/client_address.hpp"
#include "http/rate_limiter.hpp"
#include "http/stream_limiter.hpp"

using namespace chrysopedia::http;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
  RateLimiter::Clock::time_point now{};
  RateLimiter::Now fn() {
    return [this] { return now; };
  }
};

Request request_from(std::string peer,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = "POST";
  r.path = "/api/v1/chat";
  r.peer_address = std::move(peer);
  r.headers = std::move(headers);
  r.request_id = "test";
  return r;
}

std::string header_of(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace

TEST(RateLimiter, ABurstIsAllowedThenRefusedWithTheWaitForOneToken) {
  FakeClock clock;
  RateLimiter limiter(60, 5, 100, clock.fn());  // one a second, five at once
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.take("a").allowed) << i;
  const auto refused = limiter.take("a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1s);
  EXPECT_TRUE(limiter.take("b").allowed) << "buckets are per client";
}

TEST(RateLimiter, RefillsAtTheRateUpToTheBurst) {
  FakeClock clock;
  RateLimiter limiter(6, 3, 100, clock.fn());  // one every 10 s
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.take("a").allowed);
  auto d = limiter.take("a");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 10s);
  clock.now += 4s;
  d = limiter.take("a");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 6s) << "0.4 of a token refilled; 6 s to go";
  clock.now += 6s;
  EXPECT_TRUE(limiter.take("a").allowed);
  EXPECT_FALSE(limiter.take("a").allowed);

  clock.now += 1h;  // refills to the burst, not beyond it
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.take("a").allowed) << i;
  EXPECT_FALSE(limiter.take("a").allowed);
}

TEST(RateLimiter, RetryAfterIsWholeSecondsAndAtLeastOne) {
  FakeClock clock;
  RateLimiter limiter(600, 1, 100, clock.fn());  // ten a second
  EXPECT_TRUE(limiter.take("a").allowed);
  const auto d = limiter.take("a");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 1s) << "0.1 s rounds up to one whole second";
  clock.now += 100ms;
  EXPECT_TRUE(limiter.take("a").allowed);
}

TEST(RateLimiter, TheTableIsBoundedUnderAFloodOfDistinctClients) {
  FakeClock clock;
  RateLimiter limiter(60, 20, 1000, clock.fn());
  for (int i = 0; i < 100'000; ++i) {
    EXPECT_TRUE(limiter.take("10.0." + std::to_string(i)).allowed);
    ASSERT_LE(limiter.size(), 1000u);
  }
  EXPECT_EQ(limiter.size(), 1000u);
}

TEST(RateLimiter, IdleBucketsAreDroppedOnceFullAgain) {
  FakeClock clock;
  RateLimiter limiter(60, 20, 1000, clock.fn());  // full again 20 s after the last use
  for (int i = 0; i < 16; ++i) limiter.take("idle-" + std::to_string(i));
  EXPECT_EQ(limiter.size(), 16u);
  clock.now += 19s;
  limiter.take("busy");
  EXPECT_EQ(limiter.size(), 17u) << "not yet refilled: kept";
  clock.now += 1s;
  limiter.take("busy");
  limiter.take("busy");
  EXPECT_EQ(limiter.size(), 1u) << "the refilled ones went, a few per request";
}

TEST(RateLimiter, EvictionDropsTheLeastRecentlySeen) {
  FakeClock clock;
  RateLimiter limiter(60, 2, 2, clock.fn());
  limiter.take("a");
  limiter.take("a");
  EXPECT_FALSE(limiter.take("a").allowed);
  limiter.take("b");
  limiter.take("a");  // a is now the most recent
  limiter.take("c");  // evicts b
  EXPECT_FALSE(limiter.take("a").allowed) << "a kept its (empty) bucket";
}

TEST(ApiKeys, ConstantTimeEqualIsEquality) {
  EXPECT_TRUE(constant_time_equal("abcdef", "abcdef"));
  EXPECT_FALSE(constant_time_equal("abcdef", "abcdeg"));
  EXPECT_FALSE(constant_time_equal("abcde", "abcdef"));
  EXPECT_FALSE(constant_time_equal("abcdefabcdef", "abcdef")) << "not a repeat of the key";
  EXPECT_FALSE(constant_time_equal("", "abcdef"));
  EXPECT_FALSE(constant_time_equal("abcdef", ""));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(ApiKeys, MatchFindsWhichKey) {
  ApiKeys keys({"first-key-0123456789", "second-key-0123456789"});
  EXPECT_TRUE(keys.enabled());
  EXPECT_EQ(keys.match("first-key-0123456789"), 0);
  EXPECT_EQ(keys.match("second-key-0123456789"), 1);
  EXPECT_EQ(keys.match("second-key-012345678"), -1);
  EXPECT_EQ(keys.match(""), -1);
  EXPECT_FALSE(ApiKeys({}).enabled());
}

TEST(ApiKeys, PresentedAsBearerOrXApiKey) {
  EXPECT_EQ(presented_api_key(request_from("1.2.3.4", {{"authorization", "Bearer k1"}})), "k1");
  EXPECT_EQ(presented_api_key(request_from("1.2.3.4", {{"authorization", "bearer  k2 "}})), "k2");
  EXPECT_EQ(presented_api_key(request_from("1.2.3.4", {{"x-api-key", "k3"}})), "k3");
  EXPECT_EQ(presented_api_key(request_from(
                "1.2.3.4", {{"authorization", "Basic dXNlcjpwYXNz"}, {"x-api-key", "k4"}})),
            "k4");
  EXPECT_EQ(presented_api_key(request_from("1.2.3.4", {{"authorization", "Bearer "}})),
            std::nullopt);
  EXPECT_EQ(presented_api_key(request_from("1.2.3.4")), std::nullopt);
}

TEST(ClientAddress, ParsesAndNormalises) {
  EXPECT_EQ(IpAddress::parse("1.2.3.4")->to_string(), "1.2.3.4");
  EXPECT_EQ(IpAddress::parse(" 1.2.3.4:8080 ")->to_string(), "1.2.3.4");
  EXPECT_EQ(IpAddress::parse("::ffff:1.2.3.4")->to_string(), "1.2.3.4");
  EXPECT_EQ(IpAddress::parse("[2001:db8::1]:443")->to_string(), "2001:db8::1");
  EXPECT_EQ(IpAddress::parse("2001:DB8:0::1")->to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("unknown"));
  EXPECT_FALSE(IpAddress::parse(""));
  EXPECT_FALSE(IpAddress::parse("1.2.3.4.5"));
}

TEST(ClientAddress, ForwardedForIsHonouredOnlyFromATrustedProxy) {
  const std::vector<IpAddress> trusted = {*IpAddress::parse("10.0.0.1"),
                                          *IpAddress::parse("10.0.0.2")};
  const auto xff = [](std::string v) {
    return std::vector<std::pair<std::string, std::string>>{{"x-forwarded-for", std::move(v)}};
  };
  EXPECT_EQ(client_address(request_from("203.0.113.9", xff("1.1.1.1")), trusted)->to_string(),
            "203.0.113.9")
      << "an untrusted peer cannot name someone else";
  EXPECT_EQ(client_address(request_from("10.0.0.1", xff("1.1.1.1")), trusted)->to_string(),
            "1.1.1.1");
  EXPECT_EQ(client_address(request_from("10.0.0.1", xff("6.6.6.6, 1.1.1.1, 10.0.0.2")), trusted)
                ->to_string(),
            "1.1.1.1")
      << "the nearest untrusted hop; what the client wrote before it is ignored";
  EXPECT_EQ(client_address(request_from("10.0.0.1", xff("garbage")), trusted)->to_string(),
            "10.0.0.1");
  EXPECT_EQ(client_address(request_from("10.0.0.1"), trusted)->to_string(), "10.0.0.1");
  EXPECT_EQ(client_address(request_from("::ffff:10.0.0.1", xff("1.1.1.1")), trusted)->to_string(),
            "1.1.1.1");
  EXPECT_EQ(client_address(request_from("1.2.3.4", xff("1.1.1.1")), {})->to_string(), "1.2.3.4");
}

TEST(ClientAddress, IPv6IsLimitedByItsSlash64) {
  EXPECT_EQ(rate_limit_key(*IpAddress::parse("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
  EXPECT_EQ(rate_limit_key(*IpAddress::parse("2001:db8:1:2:bbbb::7")), "2001:db8:1:2::/64");
  EXPECT_EQ(rate_limit_key(*IpAddress::parse("192.0.2.1")), "192.0.2.1");
}

TEST(StreamLimiter, CapsOpenSlotsAndFreesThemWhenDropped) {
  StreamLimiter limiter(2);
  auto a = limiter.try_acquire();
  auto b = limiter.try_acquire();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limiter.try_acquire());
  EXPECT_EQ(limiter.open(), 2u);
  a.reset();
  EXPECT_EQ(limiter.open(), 1u);
  auto c = limiter.try_acquire();
  EXPECT_TRUE(c);
  auto moved = std::move(*c);
  c.reset();
  EXPECT_EQ(limiter.open(), 2u) << "a moved slot is still one slot";
}

TEST(AccessGuard, OpenByDefault) {
  AccessGuard guard(AccessOptions{});
  EXPECT_FALSE(guard.enabled());
  EXPECT_FALSE(guard.check(request_from("1.2.3.4"), true).refusal);
}

TEST(AccessGuard, KeysGiveA401WithWwwAuthenticate) {
  AccessOptions o;
  o.api_keys = {"the-right-key-0123456789"};
  AccessGuard guard(o);
  const auto none = guard.check(request_from("1.2.3.4"), true);
  ASSERT_TRUE(none.refusal);
  EXPECT_EQ(none.refusal->status, 401);
  EXPECT_EQ(header_of(*none.refusal, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(nlohmann::json::parse(none.refusal->body)["error"]["code"], "unauthorized");
  const auto wrong =
      guard.check(request_from("1.2.3.4", {{"authorization", "Bearer nope-0123456789"}}), true);
  ASSERT_TRUE(wrong.refusal);
  EXPECT_EQ(wrong.refusal->status, 401);
  EXPECT_EQ(wrong.refusal->body.find("nope"), std::string::npos);
  EXPECT_FALSE(
      guard
          .check(request_from("1.2.3.4", {{"authorization", "Bearer the-right-key-0123456789"}}),
                 true)
          .refusal);
  EXPECT_FALSE(
      guard.check(request_from("1.2.3.4", {{"x-api-key", "the-right-key-0123456789"}}), true)
          .refusal);
}

TEST(AccessGuard, RateLimitGives429WithRetryAfterAndCountsKeylessGuessesToo) {
  FakeClock clock;
  AccessOptions o;
  o.api_keys = {"the-right-key-0123456789"};
  o.rate_per_minute = 60;
  o.rate_burst = 2;
  AccessGuard guard(o, clock.fn());
  const auto guess = [] { return request_from("1.2.3.4", {{"x-api-key", "guess-0123456789"}}); };
  EXPECT_EQ(guard.check(guess(), false).refusal->status, 401);
  EXPECT_EQ(guard.check(guess(), false).refusal->status, 401);
  const auto limited = guard.check(guess(), false);
  ASSERT_TRUE(limited.refusal);
  EXPECT_EQ(limited.refusal->status, 429);
  EXPECT_EQ(header_of(*limited.refusal, "Retry-After"), "1");
  EXPECT_NE(limited.refusal->body.find("retry in 1 second"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(limited.refusal->body)["error"]["code"], "rate_limited");
  // The key's holder at the same address has a bucket of its own.
  EXPECT_FALSE(
      guard.check(request_from("1.2.3.4", {{"x-api-key", "the-right-key-0123456789"}}), false)
          .refusal);
}

TEST(AccessGuard, StreamCapGives503OnlyForStreams) {
  AccessOptions o;
  o.max_streams = 1;
  AccessGuard guard(o);
  auto first = guard.check(request_from("1.2.3.4"), true);
  ASSERT_FALSE(first.refusal);
  ASSERT_TRUE(first.slot);
  const auto second = guard.check(request_from("1.2.3.5"), true);
  ASSERT_TRUE(second.refusal);
  EXPECT_EQ(second.refusal->status, 503);
  EXPECT_EQ(header_of(*second.refusal, "Retry-After"), "1");
  EXPECT_EQ(nlohmann::json::parse(second.refusal->body)["error"]["code"], "overloaded");
  EXPECT_FALSE(guard.check(request_from("1.2.3.5"), false).refusal) << "conversations API";
  first.slot.reset();
  EXPECT_FALSE(guard.check(request_from("1.2.3.5"), true).refusal);
}

namespace {

// Fleet-wide buckets that answer what the test says, or cannot answer.
class FakeFleet final : public FleetRateLimit {
 public:
  std::optional<RateDecision> answer;
  std::vector<std::string> asked;
  boost::asio::awaitable<std::optional<RateDecision>> take(const std::string& client, double,
                                                           double) override {
    asked.push_back(client);
    co_return answer;
  }
};

// Runs one request through the guard to a handler that answers 200.
int status_through(AccessGuard& guard, const Request& request) {
  chrysopedia::test::FakeExchange ex;
  ex.req = request;
  Handler ok = [](Exchange& e) -> boost::asio::awaitable<void> {
    Response r;
    co_await e.respond(std::move(r));
  };
  const Handler guarded = guard.protect(ok, false);
  boost::asio::io_context ctx;
  boost::asio::co_spawn(ctx, guarded(ex), [](std::exception_ptr) {});
  ctx.run();
  return ex.response ? ex.response->status : 0;
}

}  // namespace

TEST(AccessGuard, TheFleetsBucketsDecideWhileTheyAnswerAndTheOwnTableWhenNot) {
  FakeFleet fleet;
  AccessOptions o;
  o.rate_per_minute = 60;
  o.rate_burst = 1;
  o.fleet = [&fleet] { return &fleet; };
  FakeClock clock;
  AccessGuard guard(o, clock.fn());
  const auto req = request_from("10.0.0.9");

  // The fleet refuses although this replica's own bucket is full...
  fleet.answer = RateDecision{false, 7s};
  EXPECT_EQ(status_through(guard, req), 429);
  EXPECT_EQ(fleet.asked, std::vector<std::string>{"10.0.0.9"});
  EXPECT_TRUE(guard.fleet_shared());
  // ...and allows although it would refuse (its burst of 1 is untouched,
  // so a second one locally would be refused: the fleet decides).
  fleet.answer = RateDecision{true, 0s};
  EXPECT_EQ(status_through(guard, req), 200);
  EXPECT_EQ(status_through(guard, req), 200);

  // The fleet cannot answer: the replica's own table, burst 1.
  fleet.answer.reset();
  EXPECT_EQ(status_through(guard, req), 200);
  EXPECT_EQ(status_through(guard, req), 429);
  EXPECT_FALSE(guard.fleet_shared());
}

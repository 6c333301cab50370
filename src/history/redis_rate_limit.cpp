#include "history/redis_rate_limit.hpp"

#include <fmt/format.h>

#include "chrysopedia/history/history_store.hpp"

namespace chrysopedia::history {

namespace net = boost::asio;

namespace {

// KEYS[1] the bucket; ARGV: tokens per millisecond, burst. Returns
// {allowed (0/1), seconds to retry}. The same arithmetic as the local
// table (http::RateLimiter).
constexpr const char* kTakeScript = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
local allowed, retry = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.max(1, math.ceil((1 - tokens) / rate / 1000))
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
return {allowed, retry}
)lua";

}  // namespace

RedisRateLimit::RedisRateLimit(RedisConnection& connection, std::chrono::milliseconds timeout)
    : connection_(connection), timeout_(timeout) {}

net::awaitable<std::optional<RedisRateLimit::Taken>> RedisRateLimit::take(const std::string& client,
                                                                          double per_minute,
                                                                          double burst) {
  // Not connected: the local table decides at once rather than after a
  // timeout (a command fails at once anyway; this skips building it).
  if (!connection_.connected()) co_return std::nullopt;
  std::vector<std::string> argv = {"EVAL",
                                   kTakeScript,
                                   "1",
                                   "chrysopedia:rate:" + client,
                                   fmt::format("{:.12g}", per_minute / 60'000.0),
                                   fmt::format("{:.12g}", burst)};
  std::optional<RedisReply> reply;
  try {
    reply = co_await connection_.command(std::move(argv), timeout_);
  } catch (const HistoryError&) {
    co_return std::nullopt;
  }
  if (reply->elements.size() != 2) co_return std::nullopt;
  Taken d;
  d.allowed = reply->elements[0].integer == 1;
  d.retry_after = std::chrono::seconds(reply->elements[1].integer);
  co_return d;
}

}  // namespace chrysopedia::history

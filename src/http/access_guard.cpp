#include "http/access_guard.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chrysopedia/http/json_error.hpp"
#include "chrysopedia/observability/metrics.hpp"

namespace chrysopedia::http {

namespace net = boost::asio;

AccessGuard::AccessGuard(AccessOptions options, RateLimiter::Now now)
    : keys_(std::move(options.api_keys)),
      trusted_proxies_(std::move(options.trusted_proxies)),
      rate_per_minute_(options.rate_per_minute),
      rate_burst_(options.rate_burst),
      fleet_(std::move(options.fleet)) {
  if (options.rate_per_minute > 0) {
    rate_ = std::make_unique<RateLimiter>(options.rate_per_minute, options.rate_burst,
                                          options.max_rate_clients, std::move(now));
  }
  if (options.max_streams > 0) streams_ = std::make_unique<StreamLimiter>(options.max_streams);
}

bool AccessGuard::enabled() const {
  return keys_.enabled() || rate_ || streams_;
}

std::string AccessGuard::rate_client(const Request& request) const {
  int key = -1;
  if (keys_.enabled()) {
    const auto presented = presented_api_key(request);
    if (presented) key = keys_.match(*presented);
  }
  return rate_client(request, key);
}

std::string AccessGuard::rate_client(const Request& request, int key) const {
  const auto address = client_address(request, trusted_proxies_);
  std::string client = address ? rate_limit_key(*address) : std::string("unknown");
  // Which key (its position, never the key) is part of the identity, and
  // requests without a valid key share one bucket per address.
  if (keys_.enabled()) client += key >= 0 ? "|k" + std::to_string(key) : std::string("|none");
  return client;
}

AccessGuard::Verdict AccessGuard::check(const Request& request, bool opens_stream) {
  return check(request, opens_stream, std::nullopt);
}

AccessGuard::Verdict AccessGuard::check(const Request& request, bool opens_stream,
                                        const std::optional<RateDecision>& decided) {
  Verdict v;
  int key = -1;
  std::optional<std::string_view> presented;
  if (keys_.enabled()) {
    presented = presented_api_key(request);
    if (presented) key = keys_.match(*presented);
  }

  if (rate_) {
    // The key was matched above: not again (a constant-time pass over every key).
    const std::string client = rate_client(request, key);
    const auto decision = decided ? *decided : rate_->take(client);
    if (!decision.allowed) {
      const auto seconds = decision.retry_after.count();
      v.refusal =
          json_error(429, "rate_limited",
                     fmt::format("Too many requests from this client; retry in {} second{}.",
                                 seconds, seconds == 1 ? "" : "s"));
      v.refusal->headers.emplace_back("Retry-After", std::to_string(seconds));
      spdlog::debug("http_rate_limited rid={} client={} retry_after={}", request.request_id, client,
                    seconds);
      return v;
    }
  }

  if (keys_.enabled() && key < 0) {
    // Neither the key sent nor any part of it is logged: a wrong key is
    // often a real one mistyped or meant for another service.
    v.refusal = json_error(401, "unauthorized",
                           presented ? "The API key is not valid."
                                     : "This API needs a key: send \"Authorization: Bearer <key>\" "
                                       "or \"X-API-Key: <key>\".");
    v.refusal->headers.emplace_back("WWW-Authenticate", "Bearer");
    spdlog::info("http_unauthorized rid={} peer={} reason={}", request.request_id,
                 request.peer_address, presented ? "invalid_key" : "no_key");
    return v;
  }

  if (key >= 0) v.owner = keys_.owner(key);

  if (opens_stream && streams_) {
    v.slot = streams_->try_acquire();
    if (!v.slot) {
      v.refusal = json_error(
          503, "overloaded",
          fmt::format("The server is at its limit of {} open streams; retry in a second.",
                      streams_->max()));
      v.refusal->headers.emplace_back("Retry-After", "1");
      spdlog::debug("http_overloaded rid={} streams_open={}", request.request_id, streams_->open());
    }
  }
  return v;
}

Handler AccessGuard::protect(Handler handler, bool opens_stream) {
  // The router keeps this closure (and so `handler`) for the server's life.
  return [this, handler = std::move(handler), opens_stream](Exchange& ex) {
    return run(handler, ex, opens_stream);
  };
}

net::awaitable<void> AccessGuard::run(const Handler& handler, Exchange& exchange,
                                      bool opens_stream) {
  // One bucket per client for the whole fleet when the shared buckets
  // answer; this process's own table while they cannot (said on change).
  std::optional<RateDecision> decided;
  if (rate_ && fleet_) {
    if (FleetRateLimit* fleet = fleet_()) {
      decided =
          co_await fleet->take(rate_client(exchange.request()), rate_per_minute_, rate_burst_);
      const int state = decided ? 1 : 2;
      fleet_shared_.store(decided.has_value(), std::memory_order_relaxed);
      if (fleet_state_.exchange(state, std::memory_order_relaxed) != state) {
        observability::service_metrics().rate_limit_shared.set(decided ? 1 : 0);
        if (decided) {
          spdlog::info("rate_limit_shared shared=true (one bucket per client for every replica)");
        } else {
          spdlog::warn(
              "rate_limit_shared shared=false (Redis does not answer: this replica's own "
              "buckets decide until it does)");
        }
      }
    }
  }
  auto verdict = check(exchange.request(), opens_stream, decided);
  if (verdict.refusal) {
    Response refusal = std::move(*verdict.refusal);
    co_await exchange.respond(std::move(refusal));
    co_return;
  }
  exchange.set_owner(std::move(verdict.owner));
  // The slot stays with the exchange until the handler is done (or
  // cancelled), unless the handler takes it for work that outlives it.
  if (verdict.slot) {
    exchange.hold_stream_slot(std::make_shared<StreamLimiter::Slot>(std::move(*verdict.slot)));
  }
  co_await handler(exchange);
}

}  // namespace chrysopedia::http

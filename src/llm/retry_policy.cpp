#include "llm/retry_policy.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>

#include "common/utf8.hpp"

namespace chrysopedia::llm {

std::exception_ptr failure_of(const AttemptEnd& end) {
  using K = LlmError::Kind;
  if (!end.parse_error.empty()) {
    const bool upstream = end.parse_error.find("reported an error") != std::string_view::npos;
    return std::make_exception_ptr(
        LlmError(upstream ? K::upstream : K::protocol, std::string(end.parse_error)));
  }
  const int http = end.outcome.status;
  if (http != 0 && (http < 200 || http > 299)) {
    return std::make_exception_ptr(LlmError(K::http_status,
                                            "the upstream answered HTTP " + std::to_string(http),
                                            http, common::sanitize_utf8(end.error_body)));
  }
  if (end.outcome.complete || end.stream_ended) {
    if (end.unfinished) return std::make_exception_ptr(LlmError(K::protocol, *end.unfinished));
    if (!end.stream_ended) {
      return std::make_exception_ptr(
          LlmError(K::truncated, "the upstream stream ended before it was complete"));
    }
    return nullptr;
  }
  return std::make_exception_ptr(LlmError(end.outcome.kind, end.outcome.what));
}

bool is_retryable(const CallOutcome& outcome) {
  const int http = outcome.status;
  if (http == 429 || http == 502 || http == 503 || http == 504) return true;
  if (http != 0 && http >= 200 && http <= 299) return false;
  return outcome.retryable;
}

std::chrono::milliseconds retry_delay(std::chrono::milliseconds base, int attempt,
                                      std::chrono::milliseconds retry_after) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const auto backoff = base * (1 << attempt);
  const auto jitter =
      std::chrono::milliseconds(std::uniform_int_distribution<long>(0, base.count())(rng));
  const auto wait = std::max<std::chrono::milliseconds>(backoff + jitter, retry_after);
  return std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(10));
}

std::optional<std::chrono::milliseconds> retry_after_header(std::string_view name,
                                                            std::string_view value) {
  constexpr std::string_view kRetryAfter = "retry-after";
  if (name.size() != kRetryAfter.size()) return std::nullopt;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != kRetryAfter[i]) return std::nullopt;
  }
  long seconds = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, seconds);
  if (ec != std::errc{} || ptr == value.data() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

}  // namespace chrysopedia::llm

#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "llm/upstream_call.hpp"

namespace chrysopedia::llm {

/// Whether a failed call is worth another attempt, before any token came:
/// 429, 502, 503 and 504, and failures in which nothing was received.
bool is_retryable(const CallOutcome& outcome);

/// How long to wait before attempt `attempt` + 1: exponential from `base`
/// with up to `base` of jitter, never less than the server's Retry-After,
/// never more than 10 s.
std::chrono::milliseconds retry_delay(std::chrono::milliseconds base, int attempt,
                                      std::chrono::milliseconds retry_after);

/// The delay a `Retry-After` header asks for, when `name` is that header
/// and its value is seconds (an HTTP date is left to our own backoff).
std::optional<std::chrono::milliseconds> retry_after_header(std::string_view name,
                                                            std::string_view value);

}  // namespace chrysopedia::llm

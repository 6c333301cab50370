#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "llm/upstream_call.hpp"

namespace chrysopedia::llm {

/// How one attempt at a completion ended, as the stream client saw it.
struct AttemptEnd {
  const CallOutcome& outcome;
  std::string_view parse_error;           ///< the stream was not one (or an error chunk)
  std::string_view error_body;            ///< the start of a non-2xx answer's body
  bool stream_ended = false;              ///< [DONE] or a finish reason arrived
  std::optional<std::string> unfinished;  ///< what the parser found left over, if read in full
};

/// The LlmError an ended attempt is, or null when it completed: the stream's
/// own errors first, then the HTTP status, then a stream cut short, then
/// the transport's failure.
std::exception_ptr failure_of(const AttemptEnd& end);

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

#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::test {

struct SseEvent {
  std::string event;  ///< "message" when no event field was given
  std::string data;
  std::string id = {};  ///< the last event ID when it was dispatched
  bool operator==(const SseEvent&) const = default;
};

/// Parses an event stream exactly as the WHATWG HTML standard tells a
/// browser's EventSource to: lines end in CR LF, LF or CR; `data` lines are
/// joined with LF; one space after the colon is dropped; comments ignored;
/// an event with empty data is not dispatched.
std::vector<SseEvent> parse_sse(std::string_view stream, std::size_t* comments = nullptr);

/// The text with CR LF and lone CR turned into LF: what a client rebuilds
/// from framed data, to compare with what was sent.
std::string normalise_newlines(std::string_view s);

}  // namespace chrysopedia::test

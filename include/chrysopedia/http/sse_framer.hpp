#pragma once

#include <string>
#include <string_view>

namespace chrysopedia::http {

/// Turns events into Server-Sent Events wire text (SPEC §1).
///
/// Every line of the data becomes its own `data: ` line, so any conforming
/// client rebuilds the text exactly by joining them with LF. CR LF and lone
/// CR become LF. A CR that ends one event's data and an LF that starts the
/// next event's data (same event name) are one line break, so the framer
/// keeps that one bit of state between calls.
class SseFramer {
 public:
  /// The framed event (no `event:` line when `event` is empty), or "" when there is nothing to send
  /// (empty data, or data that was only the LF completing the previous event's CR).
  std::string frame(std::string_view event, std::string_view data, std::string_view id = {});

  /// The same, appended to `out` (the connection's output buffer, so a
  /// token costs no allocation). Returns how many bytes were appended.
  /// `id`, when given, is the event's `id:` line (SPEC §11): it must hold
  /// no line break and no NUL (the service makes it).
  std::size_t frame_into(std::string& out, std::string_view event, std::string_view data,
                         std::string_view id = {});

  /// A comment line, which clients ignore (heartbeats).
  static std::string comment(std::string_view text);

 private:
  std::string last_event_;
  bool pending_cr_ = false;
};

}  // namespace chrysopedia::http

#pragma once

#include <string_view>

#include <boost/asio/awaitable.hpp>

namespace chrysopedia::http {

/// The open Server-Sent Events stream of one response (SPEC §1).
///
/// Writes are strictly one at a time and `send` completes only once the
/// client's socket has taken the event, so a slow reader slows its producer
/// instead of growing a queue. Heartbeat comments are written by the stream
/// itself while no event is. When the client goes away the producer's
/// coroutine is cancelled: `send` (like any other awaited operation) throws.
class EventStream {
 public:
  virtual ~EventStream() = default;

  /// Frames `data` as one event (multi-line `data:`, line breaks normalised,
  /// also across consecutive events of the same name) and writes it.
  /// `id` (SPEC §11: `{stream_id}-{seq}`) is the event's `id:` field, none
  /// when empty.
  virtual boost::asio::awaitable<void> send(std::string_view event, std::string_view data,
                                            std::string_view id = {}) = 0;

  /// Events sent from now on wait for release() (or for the stream's
  /// end) instead of each being written on a later turn of the loop: a
  /// producer that knows when it has caught up (with the tokens one read
  /// from the model brought) then costs one write and no extra wake-up.
  virtual void hold() {}
  /// Writes what hold() kept, now.
  virtual void release() {}
};

}  // namespace chrysopedia::http

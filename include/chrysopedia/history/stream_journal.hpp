#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace chrysopedia::history {

/// One kept event of a chat stream (SPEC §11).
struct KeptEvent {
  long long seq = 0;  ///< from 1, one per event
  std::string event;
  std::string data;
};

/// Writes one chat stream's events where a reader on any replica can find
/// them. `append` never waits: events go out in batches, one round trip per
/// batch while the next one gathers, so the relay's cost per token stays a
/// copy. A failing store loses the stream's resume, never the chat.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  /// The stream's id: 32 hex digits from the kernel's random bytes.
  virtual const std::string& id() const = 0;
  /// Keeps the next event; returns its seq.
  virtual long long append(std::string_view event, std::string_view data) = 0;
  /// The last event was appended: the stream is kept for the retention
  /// time, then forgotten. A writer destroyed before this ends its stream
  /// with `error` `{"message": "Stream abandoned"}`, so no reader waits on.
  virtual void finish() = 0;
  /// Whether a reader asked (on any replica) to stop the generation; learnt
  /// with the replies to the writer's batches, so while tokens flow.
  virtual bool stop_requested() const = 0;
  /// Called once, on the writer's loop, when stop_requested() turns true:
  /// at once when the stop is published (any replica), else with the reply
  /// to a batch. Until the writer goes.
  virtual void on_stop(std::function<void()> callback) { (void)callback; }
  /// When a reader of the stream (GET /api/v1/chat/streams/{id}, any
  /// replica) was last known to be reading, as of the replies to the
  /// writer's batches; the epoch if never.
  virtual std::chrono::steady_clock::time_point reader_seen() const = 0;
  /// Whether the stream's last batch could not be kept (Redis away): then
  /// nobody can resume it, and a client that leaves ends it at once.
  virtual bool failing() const { return false; }
};

/// What asking a stream to stop found.
enum class StopOutcome {
  unknown,   ///< no such stream (unknown, expired, another owner's)
  stopping,  ///< asked: its writer stops at its next batch
  ended,     ///< it had ended already: nothing changes
};

/// Chat streams kept for resuming (SPEC §11), each its owner's (the API
/// key's; "" without keys): another owner's stream does not exist.
class StreamJournal {
 public:
  virtual ~StreamJournal() = default;
  /// A new stream of `owner`'s, or null when streams cannot be kept now
  /// (no Redis, or Redis unreachable): the chat then goes on without ids.
  virtual std::unique_ptr<StreamWriter> open(const std::string& owner) = 0;
  /// At most `max` events after `after` of `owner`'s stream `stream_id`;
  /// nullopt when there is no such stream (unknown, expired, or another
  /// owner's). Throws HistoryError when the store cannot be read.
  virtual boost::asio::awaitable<std::optional<std::vector<KeptEvent>>> read(
      const std::string& owner, const std::string& stream_id, long long after, std::size_t max) = 0;
  /// Asks `owner`'s stream `stream_id` to stop. Throws HistoryError when
  /// the store cannot be reached.
  virtual boost::asio::awaitable<StopOutcome> stop(const std::string& owner,
                                                   const std::string& stream_id) = 0;
  /// Whether the replica writing the stream has been heard from within the
  /// liveness time (it writes at least twice in that time while it runs).
  /// Throws HistoryError when the store cannot be read.
  virtual boost::asio::awaitable<bool> alive(const std::string& owner,
                                             const std::string& stream_id) = 0;
};

/// Whether an event ends a stream (`done` or `error`).
inline bool ends_stream(std::string_view event) {
  return event == "done" || event == "error";
}

/// `{stream_id}-{seq}`, the SSE `id:` of an event.
std::string event_id(std::string_view stream_id, long long seq);

/// A stream id as the service makes them: 32 lower-case hex digits.
bool valid_stream_id(std::string_view id);

}  // namespace chrysopedia::history

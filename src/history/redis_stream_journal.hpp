#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "chrysopedia/history/stream_journal.hpp"
#include "history/redis_connection.hpp"

namespace chrysopedia::history {

struct RedisStreamOptions {
  std::chrono::seconds retention{300};  ///< after the stream ended
  /// While the stream runs: long enough for any answer (the model's total
  /// timeout is less), short enough that a replica that died leaves no key
  /// behind for long.
  std::chrono::seconds open_ttl{3600};
  long long max_events = 10'000;  ///< the Redis Stream's cap (MAXLEN ~)
  /// A running stream's writer is heard from at least twice in this time
  /// (a batch, or an empty one on a timer while the model is silent).
  std::chrono::seconds liveness{5};
  std::chrono::milliseconds timeout{1000};
  /// How long the streams of a loop gather their events for one call to
  /// Redis: at most one call a window. A resuming reader polls every 25 ms,
  /// so it sees them no later than it would have looked anyway.
  std::chrono::milliseconds batch_window{25};
};

/// StreamJournal over Redis: one Redis Stream per chat stream, the key
/// `chrysopedia:stream:{owner:}{id}`, an entry `0-1` made when it opens (so
/// a reader arriving before the first event finds it) and each event as
/// the entry `1-{seq}` with fields `e` (name) and `d` (data). A batch of
/// events is one script (XADD each, trimmed; the TTL and liveness renewed
/// when due), one round trip.
///
/// A stop sets the stream's stop flag (which a batch's reply reports, at
/// least every 250 ms) and publishes the flag's key on kStopChannel: with
/// `stops` (a connection of its own, subscribed to it), the replica writing
/// the stream learns of it at once, however silent the model, and tells the
/// writer's on_stop.
class RedisStreamJournal final : public StreamJournal {
 public:
  RedisStreamJournal(boost::asio::io_context& ctx, RedisConnection& connection,
                     RedisStreamOptions options, RedisConnection* stops = nullptr);
  ~RedisStreamJournal() override;

  std::unique_ptr<StreamWriter> open(const std::string& owner) override;
  boost::asio::awaitable<std::optional<std::vector<KeptEvent>>> read(const std::string& owner,
                                                                     const std::string& stream_id,
                                                                     long long after,
                                                                     std::size_t max) override;
  boost::asio::awaitable<StopOutcome> stop(const std::string& owner,
                                           const std::string& stream_id) override;
  boost::asio::awaitable<bool> alive(const std::string& owner,
                                     const std::string& stream_id) override;

 private:
  boost::asio::io_context& ctx_;
  RedisConnection& connection_;
  RedisStreamOptions options_;
  // Writers' batches still in flight hold a weak reference: once the
  // journal (and the connection after it) is gone they stop.
  std::shared_ptr<RedisConnection*> alive_;

 public:
  /// This loop's running writers by their stop flag's key (what a stop
  /// publishes); each writer takes itself out when it goes.
  struct StopListeners;

 private:
  std::shared_ptr<StopListeners> listeners_;
  // The loop's tick that sends every stream's batch together (FlushTick,
  // in the .cpp); writers hold it too.
  std::shared_ptr<void> tick_;
};

/// The pub/sub channel stops are published on: every replica's journals
/// listen, and the one writing the stream acts.
inline constexpr const char* kStopChannel = "chrysopedia:stream-stops";

/// `chrysopedia:stream:{owner:}{id}`
std::string stream_key(const std::string& owner, const std::string& stream_id);
/// `chrysopedia:stream-stop:{owner:}{id}`: set when a reader asks it to stop.
std::string stop_key(const std::string& owner, const std::string& stream_id);
/// `chrysopedia:stream-alive:{owner:}{id}`: refreshed by each batch while
/// the stream runs, expiring after the liveness time.
std::string alive_key(const std::string& owner, const std::string& stream_id);

}  // namespace chrysopedia::history

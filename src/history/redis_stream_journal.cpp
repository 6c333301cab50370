#include "history/redis_stream_journal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chrysopedia/history/history_store.hpp"
#include "common/hex.hpp"
#include "common/log_text.hpp"
#include "common/os_random.hpp"

namespace chrysopedia::history {

namespace net = boost::asio;

namespace {

// KEYS[1] the stream, KEYS[2] its stop flag, KEYS[3] its liveness key,
// KEYS[4] its readers' mark; ARGV: cap, ttl in ms, liveness in ms, then
// seq, name, data per event. The opening entry 0-1 is made by the first
// batch (which may hold no event): a key that exists is a stream that
// exists. Returns 1 if a stop was asked for, plus 2 if a reader of the
// stream has been reading lately.
constexpr const char* kAppendScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XADD', KEYS[1], '0-1', 'o', '1')
end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
for i = 4, #ARGV, 3 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '1-' .. ARGV[i], 'e', ARGV[i + 1], 'd', ARGV[i + 2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('EXISTS', KEYS[2]) + 2 * redis.call('EXISTS', KEYS[4])
)lua";

// KEYS[1] the stream, KEYS[2] its stop flag. 0: no such stream; 2: it has
// ended (its last event is done or error); 1: the flag is set.
constexpr const char* kStopScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local f = last[1][2]
  for i = 1, #f - 1, 2 do
    if f[i] == 'e' and (f[i + 1] == 'done' or f[i + 1] == 'error') then return 2 end
  end
end
redis.call('SET', KEYS[2], '1', 'EX', 3600)
return 1
)lua";

// KEYS[1] the stream, KEYS[2] its readers' mark; ARGV: the exclusive
// start id, the count, how long the mark lasts in ms. nil for no such
// stream. Each read marks the stream as read: a generation whose client
// left goes on while somebody follows it (CHAT_DETACHED_GRACE_SECONDS).
constexpr const char* kReadScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
)lua";

struct Batch {
  std::vector<std::string> argv;  // seq, name, data per event
};

// What a writer and its batches in flight share.
struct WriterState : std::enable_shared_from_this<WriterState> {
  net::io_context& ctx;
  std::weak_ptr<RedisConnection*> connection;
  RedisStreamOptions options;
  std::string key;
  std::string stop;     // its stop flag's key
  std::string alive;    // its liveness key
  std::string readers;  // its readers' mark
  net::steady_timer beat{ctx};
  bool stop_requested = false;
  std::chrono::steady_clock::time_point reader_seen{};
  std::vector<std::string> pending;  // seq, name, data per event
  // A batch is due even with no event: the first (it makes the key) and
  // the one after finish() (it sets the retention).
  bool due = true;
  bool flushing = false;
  bool finished = false;
  bool failed_once = false;
  bool last_failed = false;

  WriterState(net::io_context& c, std::weak_ptr<RedisConnection*> conn, RedisStreamOptions o,
              std::string k, std::string s, std::string a, std::string r)
      : ctx(c),
        connection(std::move(conn)),
        options(o),
        key(std::move(k)),
        stop(std::move(s)),
        alive(std::move(a)),
        readers(std::move(r)) {}

  // While the model is silent, an empty batch every half liveness time
  // keeps the liveness key (and the stop flag's news) fresh; one timer per
  // running stream, gone when it ends.
  static net::awaitable<void> heartbeat(std::shared_ptr<WriterState> self) {
    while (!self->finished) {
      self->beat.expires_after(std::chrono::milliseconds(self->options.liveness) / 2);
      const auto [ec] = co_await self->beat.async_wait(net::as_tuple(net::use_awaitable));
      if (ec || self->finished) break;
      self->due = true;
      self->kick();
    }
  }

  void kick() {
    if (flushing) return;
    flushing = true;
    net::co_spawn(ctx, flush(shared_from_this()), net::detached);
  }

  // Sends what gathered while the previous batch was in flight, until
  // nothing is left: one round trip per batch however many tokens came.
  static net::awaitable<void> flush(std::shared_ptr<WriterState> self) {
    while (!self->pending.empty() || self->due) {
      const auto conn = self->connection.lock();
      if (!conn) break;
      std::vector<std::string> argv = {
          "EVAL",     kAppendScript, "4",           self->key,
          self->stop, self->alive,   self->readers, std::to_string(self->options.max_events)};
      const auto ttl = self->finished ? self->options.retention : self->options.open_ttl;
      argv.push_back(std::to_string(std::chrono::milliseconds(ttl).count()));
      argv.push_back(std::to_string(std::chrono::milliseconds(self->options.liveness).count()));
      for (auto& s : self->pending) argv.push_back(std::move(s));
      self->pending.clear();
      self->due = false;
      try {
        const auto reply = co_await (*conn)->command(std::move(argv), self->options.timeout);
        if (reply.integer & 1) self->stop_requested = true;
        if (reply.integer & 2) self->reader_seen = std::chrono::steady_clock::now();
        self->last_failed = false;
      } catch (const std::exception& e) {
        // The chat goes on; only its resume is lost. Said once a stream.
        self->last_failed = true;
        if (!self->failed_once) {
          self->failed_once = true;
          spdlog::warn("stream_journal_error key={} error={}", self->key,
                       common::log_quote(e.what()));
        }
      }
    }
    self->flushing = false;
  }
};

class RedisStreamWriter final : public StreamWriter {
 public:
  RedisStreamWriter(std::string id, std::shared_ptr<WriterState> state)
      : id_(std::move(id)), state_(std::move(state)) {
    state_->kick();  // the key exists from now on
    net::co_spawn(state_->ctx, WriterState::heartbeat(state_), net::detached);
  }
  ~RedisStreamWriter() override {
    if (!state_->finished) {
      append("error", R"({"message":"Stream abandoned"})");
      finish();
    }
  }
  const std::string& id() const override { return id_; }
  long long append(std::string_view event, std::string_view data) override {
    ++seq_;
    state_->pending.push_back(std::to_string(seq_));
    state_->pending.emplace_back(event);
    state_->pending.emplace_back(data);
    state_->kick();
    return seq_;
  }
  void finish() override {
    // The next batch carries the retention as its TTL (after any already
    // in flight with the open TTL).
    state_->finished = true;
    state_->due = true;
    state_->beat.cancel();
    state_->kick();
  }
  bool stop_requested() const override { return state_->stop_requested; }
  std::chrono::steady_clock::time_point reader_seen() const override { return state_->reader_seen; }
  bool failing() const override { return state_->last_failed; }

 private:
  std::string id_;
  std::shared_ptr<WriterState> state_;
  long long seq_ = 0;
};

}  // namespace

std::string event_id(std::string_view stream_id, long long seq) {
  return fmt::format("{}-{}", stream_id, seq);
}

bool valid_stream_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

namespace {

// A stream's keys: one prefix per kind, the same owner-and-id suffix.
std::string stream_scoped(std::string_view prefix, const std::string& owner,
                          const std::string& stream_id) {
  return std::string(prefix) + (owner.empty() ? stream_id : owner + ":" + stream_id);
}

}  // namespace

std::string stream_key(const std::string& owner, const std::string& stream_id) {
  return stream_scoped("chrysopedia:stream:", owner, stream_id);
}

std::string alive_key(const std::string& owner, const std::string& stream_id) {
  return stream_scoped("chrysopedia:stream-alive:", owner, stream_id);
}

std::string stop_key(const std::string& owner, const std::string& stream_id) {
  return stream_scoped("chrysopedia:stream-stop:", owner, stream_id);
}

std::string readers_key(const std::string& owner, const std::string& stream_id) {
  return stream_scoped("chrysopedia:stream-readers:", owner, stream_id);
}

RedisStreamJournal::RedisStreamJournal(net::io_context& ctx, RedisConnection& connection,
                                       RedisStreamOptions options)
    : ctx_(ctx),
      connection_(connection),
      options_(options),
      alive_(std::make_shared<RedisConnection*>(&connection)) {}

RedisStreamJournal::~RedisStreamJournal() = default;

std::unique_ptr<StreamWriter> RedisStreamJournal::open(const std::string& owner) {
  // Redis away: no ids, as without Redis (SPEC §11), rather than ids that
  // promise a resume nobody can have.
  if (!connection_.connected()) return nullptr;
  unsigned char bytes[16];
  common::os_random_bytes(bytes, sizeof bytes);
  std::string id = common::to_hex(bytes, sizeof bytes);
  auto state = std::make_shared<WriterState>(ctx_, alive_, options_, stream_key(owner, id),
                                             stop_key(owner, id), alive_key(owner, id),
                                             readers_key(owner, id));
  return std::make_unique<RedisStreamWriter>(std::move(id), std::move(state));
}

net::awaitable<std::optional<std::vector<KeptEvent>>> RedisStreamJournal::read(
    const std::string& owner, const std::string& stream_id, long long after, std::size_t max) {
  // A reader counts as present for two liveness times after its last read
  // (a live reader reads every 25 ms; one catching up, at every batch).
  std::vector<std::string> argv = {
      "EVAL",
      kReadScript,
      "2",
      stream_key(owner, stream_id),
      readers_key(owner, stream_id),
      fmt::format("(1-{}", after),
      std::to_string(max),
      std::to_string(std::chrono::milliseconds(options_.liveness).count() * 2)};
  const auto reply = co_await connection_.command(std::move(argv), options_.timeout);
  if (reply.type == RedisReply::Type::nil) co_return std::nullopt;
  std::vector<KeptEvent> events;
  for (const auto& entry : reply.elements) {
    // [id, [field, value, ...]]
    if (entry.elements.size() != 2) throw HistoryError("a stream entry is not [id, fields]");
    const auto& id = entry.elements[0].str;
    KeptEvent e;
    try {
      e.seq = std::stoll(id.substr(id.find('-') + 1));
    } catch (const std::exception&) {
      throw HistoryError("a stream entry's id is not 1-<seq>: " + id);
    }
    const auto& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "e") e.event = fields[i + 1].str;
      if (fields[i].str == "d") e.data = fields[i + 1].str;
    }
    events.push_back(std::move(e));
  }
  co_return events;
}

net::awaitable<StopOutcome> RedisStreamJournal::stop(const std::string& owner,
                                                     const std::string& stream_id) {
  std::vector<std::string> argv = {"EVAL", kStopScript, "2", stream_key(owner, stream_id),
                                   stop_key(owner, stream_id)};
  const auto reply = co_await connection_.command(std::move(argv), options_.timeout);
  if (reply.integer == 1) co_return StopOutcome::stopping;
  if (reply.integer == 2) co_return StopOutcome::ended;
  co_return StopOutcome::unknown;
}

net::awaitable<bool> RedisStreamJournal::alive(const std::string& owner,
                                               const std::string& stream_id) {
  std::vector<std::string> argv = {"EXISTS", alive_key(owner, stream_id)};
  const auto reply = co_await connection_.command(std::move(argv), options_.timeout);
  co_return reply.integer == 1;
}

}  // namespace chrysopedia::history

#include "history/redis_stream_journal.hpp"

#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chrysopedia/history/history_store.hpp"
#include "common/hex.hpp"
#include "common/log_text.hpp"
#include "common/os_random.hpp"

namespace chrysopedia::history {

namespace net = boost::asio;

namespace {

// The batches of several streams in one call. KEYS: per stream, the
// stream, its stop flag, its liveness key, its readers' mark. ARGV: cap,
// liveness in ms, then per stream its TTL in ms (0: leave it), what else
// to do (1: make it, with its opening entry 0-1, if it is not there; 2:
// refresh its liveness key; 4: report its stop flag and readers' mark),
// its event count, and seq, name, data per event. A stream's first batch
// (which may hold no event) makes it: a key that exists is a stream that
// exists. Returns, per stream asked (4), 1 if a stop was asked for, plus 2
// if a reader of it has been reading lately; -1 for one not asked.
constexpr const char* kAppendScript = R"lua(
local out = {}
local a = 3
for k = 1, #KEYS, 4 do
  local ttl = tonumber(ARGV[a])
  local todo = tonumber(ARGV[a + 1])
  local n = tonumber(ARGV[a + 2])
  a = a + 3
  if todo % 2 == 1 and redis.call('EXISTS', KEYS[k]) == 0 then
    redis.call('XADD', KEYS[k], '0-1', 'o', '1')
  end
  if math.floor(todo / 2) % 2 == 1 then
    redis.call('SET', KEYS[k + 2], '1', 'PX', ARGV[2])
  end
  for i = 1, n do
    redis.call('XADD', KEYS[k], 'MAXLEN', '~', ARGV[1], '1-' .. ARGV[a], 'e', ARGV[a + 1], 'd', ARGV[a + 2])
    a = a + 3
  end
  if ttl > 0 then redis.call('PEXPIRE', KEYS[k], ttl) end
  if math.floor(todo / 4) % 2 == 1 then
    out[#out + 1] = redis.call('EXISTS', KEYS[k + 1]) + 2 * redis.call('EXISTS', KEYS[k + 3])
  else
    out[#out + 1] = -1
  end
end
return out
)lua";
// What a batch does besides appending is done only as often as it matters:
// at a model's pace a batch is a token or two, and doing all of it every
// time was six commands a stream a token in Redis (at 5,000 streams, Redis
// took a core). Made until a batch has made it; liveness refreshed every
// quarter of its time; the TTL set when it changes and renewed every
// kTtlRenewal (it is an hour while open); the stop flag and readers' mark
// read every kCheckEvery (a stop is also published: this is its fallback)
// and on every batch with no event (the heartbeat's).
constexpr int kMake = 1;
constexpr int kAlive = 2;
constexpr int kCheck = 4;
constexpr auto kTtlRenewal = std::chrono::seconds(60);
constexpr auto kCheckEvery = std::chrono::milliseconds(250);

// Streams in one call at most: a call's scripts run back to back in Redis,
// holding up everything else meanwhile.
constexpr std::size_t kStreamsPerCall = 200;

// A stream's keys, each kind's prefix before the same owner-and-id scope.
constexpr const char* kStreamPrefix = "chrysopedia:stream:";
constexpr const char* kStopPrefix = "chrysopedia:stream-stop:";
constexpr const char* kAlivePrefix = "chrysopedia:stream-alive:";
constexpr const char* kReadersPrefix = "chrysopedia:stream-readers:";

// KEYS[1] the stream, KEYS[2] its stop flag; ARGV[1] the stop channel.
// 0: no such stream; 2: it has ended (its last event is done or error); 1:
// the flag is set, and its key published (the writing replica hears it).
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
redis.call('PUBLISH', ARGV[1], KEYS[2])
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

struct WriterState;

// The batches of every stream of one loop leave together, once a window:
// one write to Redis (the commands pipelined) and a read or two for their
// replies, however many streams, where a batch per stream per token cost a
// write, reads and a wake-up each. Armed only while some stream has
// something to send.
struct FlushTick {
  FlushTick(net::io_context& ctx, std::chrono::milliseconds w) : timer(ctx), window(w) {}
  net::steady_timer timer;
  std::chrono::milliseconds window;
  std::chrono::steady_clock::time_point last_sent{};
  bool armed = false;
  std::vector<std::shared_ptr<WriterState>> due;  // held: a finished writer's last batch goes too
  void fire();
};

// What a writer and its batches in flight share.
struct WriterState : std::enable_shared_from_this<WriterState> {
  net::io_context& ctx;
  std::weak_ptr<RedisConnection*> connection;
  std::shared_ptr<FlushTick> tick;
  RedisStreamOptions options;
  // What follows each kind's prefix in its keys (owner and stream id): the
  // four keys are made as a batch needs them, not kept for the stream's
  // life (a few hundred bytes a stream).
  std::string scope;
  net::steady_timer beat{ctx};
  bool stop_requested = false;
  std::function<void()> on_stop;
  std::chrono::steady_clock::time_point reader_seen{};
  std::vector<std::string> pending;  // seq, name, data per event
  // A batch is due even with no event: the first (it makes the key) and
  // the one after finish() (it sets the retention).
  bool due = true;
  bool opened = false;  // the first batch went (at once: the key exists)
  bool made = false;    // a batch that made the key was answered
  std::chrono::steady_clock::time_point alive_at{}, expire_at{}, checked_at{};
  bool queued = false;    // on the tick's list
  bool flushing = false;  // a batch in flight
  bool finished = false;
  bool failed_once = false;
  bool last_failed = false;

  WriterState(net::io_context& c, std::weak_ptr<RedisConnection*> conn,
              std::shared_ptr<FlushTick> t, RedisStreamOptions o, std::string sc)
      : ctx(c), connection(std::move(conn)), tick(std::move(t)), options(o), scope(std::move(sc)) {}

  std::string key_of(std::string_view prefix) const { return std::string(prefix) + scope; }

  // While the model is silent, an empty batch every half liveness time
  // keeps the liveness key (and the stop flag's news) fresh: one timer per
  // running stream, re-armed from its own completion until the stream
  // ends (finish() cancels it). A callback, not a coroutine: a spawned
  // coroutine's frames cost a stream most of a kilobyte.
  static void heartbeat(const std::shared_ptr<WriterState>& self) {
    self->beat.expires_after(std::chrono::milliseconds(self->options.liveness) / 2);
    self->beat.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->finished) return;
      self->due = true;
      self->kick();
      heartbeat(self);
    });
  }

  void stop_now() {
    if (stop_requested) return;
    stop_requested = true;
    // Not from inside hiredis's reply processing: on the loop's next turn.
    net::post(ctx, [weak = weak_from_this()] {
      if (const auto self = weak.lock(); self && self->on_stop) self->on_stop();
    });
  }

  // Something to send: the first batch at once (a reader given the id may
  // ask for the stream straight away), the rest with the loop's next tick.
  void kick() {
    if (flushing || queued) return;
    // The journal is gone (a loop shutting down destroys a stream's frames
    // after it): nothing could send the batch, and queueing it on the tick
    // would tie the two in a cycle nobody breaks any more.
    if (connection.expired()) return;
    if (!opened) {
      send({shared_from_this()});
      return;
    }
    queued = true;
    tick->due.push_back(shared_from_this());
    if (tick->armed) return;
    tick->armed = true;
    const auto next = tick->last_sent + tick->window;
    if (std::chrono::steady_clock::now() >= next) {
      // Nothing went for a window (a lone stream, a model's slow pace):
      // what this turn of the loop gathers goes at its end, not a window
      // later: a timer and its wake-up a token fewer.
      net::post(ctx, [t = tick] { t->fire(); });
      return;
    }
    tick->timer.expires_at(next);
    tick->timer.async_wait([t = tick](const boost::system::error_code&) { t->fire(); });
  }

  // The batches of `states` (what gathered in each since its last), in
  // as few calls as kStreamsPerCall allows: one round trip for them all.
  static void send(std::vector<std::shared_ptr<WriterState>> states) {
    std::erase_if(states,
                  [](const auto& st) { return st->flushing || (st->pending.empty() && !st->due); });
    for (std::size_t from = 0; from < states.size(); from += kStreamsPerCall) {
      std::vector<std::shared_ptr<WriterState>> part(
          states.begin() + static_cast<std::ptrdiff_t>(from),
          states.begin() +
              static_cast<std::ptrdiff_t>(std::min(states.size(), from + kStreamsPerCall)));
      send_call(std::move(part));
    }
  }

  static void send_call(std::vector<std::shared_ptr<WriterState>> states) {
    const auto conn = states.front()->connection.lock();
    if (!conn) return;  // the journal is gone
    const auto& options = states.front()->options;
    std::size_t args = 5 + 4 * states.size();
    for (const auto& st : states) args += 3 + st->pending.size();
    std::vector<std::string> argv;
    argv.reserve(args);
    argv.insert(argv.end(), {"EVAL", kAppendScript, std::to_string(4 * states.size())});
    for (const auto& st : states)
      for (const auto* prefix : {kStreamPrefix, kStopPrefix, kAlivePrefix, kReadersPrefix})
        argv.push_back(st->key_of(prefix));
    argv.push_back(std::to_string(options.max_events));
    argv.push_back(std::to_string(std::chrono::milliseconds(options.liveness).count()));
    const auto now = std::chrono::steady_clock::now();
    for (const auto& st : states) {
      int todo = 0;
      if (!st->made) todo |= kMake;
      if (!st->made || now - st->alive_at >= st->options.liveness / 4) {
        todo |= kAlive;
        st->alive_at = now;
      }
      if (!st->made || st->pending.empty() || st->finished || now - st->checked_at >= kCheckEvery) {
        todo |= kCheck;
        st->checked_at = now;
      }
      const bool ttl_due = !st->made || st->finished || now - st->expire_at >= kTtlRenewal;
      if (ttl_due) st->expire_at = now;
      const auto ttl = st->finished ? st->options.retention : st->options.open_ttl;
      argv.push_back(ttl_due ? std::to_string(std::chrono::milliseconds(ttl).count()) : "0");
      argv.push_back(std::to_string(todo));
      argv.push_back(std::to_string(st->pending.size() / 3));
      for (auto& field : st->pending) argv.push_back(std::move(field));
      st->pending.clear();
      st->due = false;
      st->opened = true;
      st->flushing = true;
    }
    (*conn)->command_then(
        std::move(argv), options.timeout,
        [states = std::move(states)](std::exception_ptr error, RedisReply reply) {
          std::string failure;
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const std::exception& e) {
              failure = e.what();
            }
          } else if (reply.type == RedisReply::Type::error) {
            failure = "Redis replied: " + reply.str;
          } else if (reply.elements.size() != states.size()) {
            failure = "the batch script answered for " + std::to_string(reply.elements.size()) +
                      " streams of " + std::to_string(states.size());
          }
          for (std::size_t i = 0; i < states.size(); ++i) {
            states[i]->sent(failure, failure.empty() ? reply.elements[i].integer : 0);
          }
        });
  }

  void sent(const std::string& failure, long long flags) {
    flushing = false;
    if (failure.empty()) {
      made = true;
      if (flags > 0 && (flags & 1)) stop_now();
      if (flags > 0 && (flags & 2)) reader_seen = std::chrono::steady_clock::now();
      last_failed = false;
    } else {
      // What the failed batch was to do, the next does.
      alive_at = expire_at = checked_at = {};
      // The chat goes on; only its resume is lost. Said once a stream.
      last_failed = true;
      if (!failed_once) {
        failed_once = true;
        spdlog::warn("stream_journal_error key={}{} error={}", kStreamPrefix, scope,
                     common::log_quote(failure));
      }
    }
    if (!pending.empty() || due) kick();  // what gathered meanwhile
  }
};

void FlushTick::fire() {
  armed = false;
  last_sent = std::chrono::steady_clock::now();
  auto batches = std::move(due);
  due.clear();
  for (auto& state : batches) state->queued = false;
  WriterState::send(std::move(batches));
}

}  // namespace

struct RedisStreamJournal::StopListeners {
  std::unordered_map<std::string, std::weak_ptr<WriterState>> by_stop_key;
};

namespace {

class RedisStreamWriter final : public StreamWriter {
 public:
  RedisStreamWriter(std::string id, std::shared_ptr<WriterState> state,
                    std::weak_ptr<RedisStreamJournal::StopListeners> listeners)
      : id_(std::move(id)), state_(std::move(state)), listeners_(std::move(listeners)) {
    if (const auto l = listeners_.lock()) l->by_stop_key[state_->key_of(kStopPrefix)] = state_;
    state_->kick();  // the key exists from now on
    WriterState::heartbeat(state_);
  }
  ~RedisStreamWriter() override {
    if (const auto l = listeners_.lock()) l->by_stop_key.erase(state_->key_of(kStopPrefix));
    state_->on_stop = nullptr;
    if (!state_->finished) {
      append("error", R"({"message":"Stream abandoned"})");
      finish();
    }
  }
  void on_stop(std::function<void()> callback) override { state_->on_stop = std::move(callback); }
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
  std::weak_ptr<RedisStreamJournal::StopListeners> listeners_;
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
std::string scope_of(const std::string& owner, const std::string& stream_id) {
  return owner.empty() ? stream_id : owner + ":" + stream_id;
}

std::string stream_scoped(std::string_view prefix, const std::string& owner,
                          const std::string& stream_id) {
  return std::string(prefix) + scope_of(owner, stream_id);
}

}  // namespace

std::string stream_key(const std::string& owner, const std::string& stream_id) {
  return stream_scoped(kStreamPrefix, owner, stream_id);
}

std::string alive_key(const std::string& owner, const std::string& stream_id) {
  return stream_scoped(kAlivePrefix, owner, stream_id);
}

std::string stop_key(const std::string& owner, const std::string& stream_id) {
  return stream_scoped(kStopPrefix, owner, stream_id);
}

std::string readers_key(const std::string& owner, const std::string& stream_id) {
  return stream_scoped(kReadersPrefix, owner, stream_id);
}

RedisStreamJournal::RedisStreamJournal(net::io_context& ctx, RedisConnection& connection,
                                       RedisStreamOptions options, RedisConnection* stops)
    : ctx_(ctx),
      connection_(connection),
      options_(options),
      alive_(std::make_shared<RedisConnection*>(&connection)),
      listeners_(std::make_shared<StopListeners>()),
      tick_(std::make_shared<FlushTick>(ctx, options.batch_window)) {
  if (!stops) return;
  stops->subscribe(kStopChannel,
                   [weak = std::weak_ptr<StopListeners>(listeners_)](const std::string& stop_key) {
                     const auto listeners = weak.lock();
                     if (!listeners) return;
                     const auto it = listeners->by_stop_key.find(stop_key);
                     if (it == listeners->by_stop_key.end())
                       return;  // another loop's, or replica's
                     if (const auto state = it->second.lock()) state->stop_now();
                   });
}

RedisStreamJournal::~RedisStreamJournal() {
  // Batches still queued cannot go without the connection; letting go of
  // them also breaks the writer <-> tick cycle.
  std::static_pointer_cast<FlushTick>(tick_)->due.clear();
}

std::unique_ptr<StreamWriter> RedisStreamJournal::open(const std::string& owner) {
  // Redis away: no ids, as without Redis (SPEC §11), rather than ids that
  // promise a resume nobody can have.
  if (!connection_.connected()) return nullptr;
  unsigned char bytes[16];
  common::os_random_bytes(bytes, sizeof bytes);
  std::string id = common::to_hex(bytes, sizeof bytes);
  auto state = std::make_shared<WriterState>(
      ctx_, alive_, std::static_pointer_cast<FlushTick>(tick_), options_, scope_of(owner, id));
  return std::make_unique<RedisStreamWriter>(std::move(id), std::move(state), listeners_);
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
  std::vector<std::string> argv = {
      "EVAL",      kStopScript, "2", stream_key(owner, stream_id), stop_key(owner, stream_id),
      kStopChannel};
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

#include "history/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <array>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include "chrysopedia/history/history_store.hpp"
#include "common/one_shot.hpp"

// Runs the callbacks of the replies the reader holds. In hiredis's library
// (0.14 and 1.x) but not in its headers; redisAsyncHandleRead is it plus
// hiredis's own read.
extern "C" void redisProcessCallbacks(redisAsyncContext* ac);

namespace chrysopedia::history {

namespace net = boost::asio;

/// The Asio side of one hiredis connection: hiredis says when it wants to
/// read or write; we wait on the socket and call it back. Shared with the
/// wait handlers so that it outlives the hiredis context it serves.
struct RedisConnection::Io {
  Io(net::io_context& ctx, redisAsyncContext* c) : sd(ctx), ac(c) {}
  net::posix::stream_descriptor sd;
  redisAsyncContext* ac;
  bool alive = true;
  bool want_read = false, want_write = false, reading = false, writing = false;
  std::array<char, 16 * 1024> buffer;  // what a read hands to hiredis's reader

  // The replies are read here, through Asio, and handed to hiredis's
  // reader: a wait for readability before hiredis's own read cost two
  // system calls more per reply (Asio re-arms the descriptor for every
  // wait, and the edge-triggered reactor needed a poll() first to find
  // bytes left from the last read). Asio's read tries the socket first and
  // waits only when it is empty. Before the connection is made, and for
  // what the socket says at its end (closed, an error), hiredis reads
  // itself, so that it handles the connect and the disconnect as it does.
  static void arm_read(const std::shared_ptr<Io>& io) {
    if (!io->alive || io->reading || !io->want_read) return;
    io->reading = true;
    if (!(io->ac->c.flags & REDIS_CONNECTED)) {
      io->sd.async_wait(net::posix::stream_descriptor::wait_read,
                        [io](boost::system::error_code ec) {
                          io->reading = false;
                          if (!io->alive || ec) return;
                          if (io->want_read) redisAsyncHandleRead(io->ac);
                          arm_read(io);  // no-op if that read ended the connection
                        });
      return;
    }
    io->sd.async_read_some(
        net::buffer(io->buffer), [io](boost::system::error_code ec, std::size_t n) {
          io->reading = false;
          if (!io->alive || ec == net::error::operation_aborted) return;
          if (ec) {
            redisAsyncHandleRead(io->ac);  // hiredis finds the end and disconnects
          } else if (redisReaderFeed(io->ac->c.reader, io->buffer.data(), n) != REDIS_OK) {
            redisAsyncHandleRead(io->ac);
          } else {
            redisProcessCallbacks(io->ac);  // may end the connection (a protocol error)
          }
          arm_read(io);
        });
  }

  // A connected socket is nearly always writable, and a wait for it costs
  // a system call (Asio re-arms the descriptor for every wait) and a turn
  // of the loop: the write is tried at once, later in this turn (so the
  // commands issued meanwhile go in one write), and waited for only when
  // the socket's buffer was full. While connecting, writable means
  // connected: then it is waited for.
  static void arm_write(const std::shared_ptr<Io>& io) {
    if (!io->alive || io->writing || !io->want_write) return;
    if (io->ac->c.flags & REDIS_CONNECTED) {
      io->writing = true;
      net::post(io->sd.get_executor(), [io] {
        // Still `writing` while hiredis writes: the addWrite it calls when
        // the buffer is full must not post another try (a busy loop).
        if (io->alive && io->want_write) redisAsyncHandleWrite(io->ac);
        io->writing = false;
        if (io->alive && io->want_write) wait_write(io);  // the buffer was full
      });
      return;
    }
    wait_write(io);
  }
  static void wait_write(const std::shared_ptr<Io>& io) {
    if (!io->alive || io->writing || !io->want_write) return;
    io->writing = true;
    io->sd.async_wait(net::posix::stream_descriptor::wait_write,
                      [io](boost::system::error_code ec) {
                        io->writing = false;
                        if (!io->alive || ec) return;
                        if (io->want_write) redisAsyncHandleWrite(io->ac);
                        arm_write(io);
                      });
  }
};

/// A command in flight: completes once, by reply, deadline or lost connection.
struct RedisConnection::Pending {
  explicit Pending(net::io_context& ctx) : timer(ctx) {}
  common::OneShot<RedisReply>::Complete complete;
  net::steady_timer timer;
  bool done = false;
  void finish(std::exception_ptr error, RedisReply reply) {
    if (done) return;
    done = true;
    timer.cancel();
    complete(error, std::move(reply));
  }
  void fail(const std::string& why) { finish(std::make_exception_ptr(HistoryError(why)), {}); }
};

namespace {

// The Io of a context, found through hiredis's private pointer. Each hook
// gets the shared_ptr from the connection so waits can keep it alive.
std::shared_ptr<RedisConnection::Io>* io_of(void* privdata) {
  return static_cast<std::shared_ptr<RedisConnection::Io>*>(privdata);
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::nil;
  }
  return out;
}

}  // namespace

RedisConnection::RedisConnection(net::io_context& ctx, config::RedisEndpoint endpoint)
    : ctx_(ctx), endpoint_(std::move(endpoint)), reconnect_timer_(ctx) {
  connect();
}

RedisConnection::~RedisConnection() {
  closing_ = true;
  reconnect_timer_.cancel();
  if (ac_) redisAsyncFree(ac_);  // fails pending commands, then cleanup()
}

void RedisConnection::connect() {
  redisAsyncContext* ac = endpoint_.unix_socket
                              ? redisAsyncConnectUnix(endpoint_.path.c_str())
                              : redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port);
  if (!ac || ac->err) {
    spdlog::warn("redis_connect_error error=\"{}\"", ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    schedule_reconnect();
    return;
  }
  auto io = std::make_shared<Io>(ctx_, ac);
  io->sd.assign(ac->c.fd);
  ac->data = this;
  // hiredis keeps this pointer until cleanup, which deletes it.
  ac->ev.data = new std::shared_ptr<Io>(io);
  ac->ev.addRead = [](void* p) {
    auto& io = *io_of(p);
    io->want_read = true;
    Io::arm_read(io);
  };
  ac->ev.delRead = [](void* p) { (*io_of(p))->want_read = false; };
  ac->ev.addWrite = [](void* p) {
    auto& io = *io_of(p);
    io->want_write = true;
    Io::arm_write(io);
  };
  ac->ev.delWrite = [](void* p) { (*io_of(p))->want_write = false; };
  ac->ev.cleanup = [](void* p) {
    auto* holder = io_of(p);
    auto& io = *holder;
    io->alive = false;
    io->want_read = io->want_write = false;
    boost::system::error_code ignored;
    io->sd.cancel(ignored);
    io->sd.release();  // hiredis closes the descriptor itself
    delete holder;
  };
  redisAsyncSetConnectCallback(ac, &RedisConnection::on_connect);
  redisAsyncSetDisconnectCallback(ac, &RedisConnection::on_disconnect);
  ac_ = ac;
  io_ = io;

  // Sent first on every connection; also what makes hiredis notice that
  // the (non-blocking) connect finished.
  auto setup = [this](std::vector<std::string> argv, const char* what) {
    auto pending = std::make_shared<Pending>(ctx_);
    pending->complete = [what](std::exception_ptr, RedisReply reply) {
      // A lost connection is logged by the connect/disconnect callbacks.
      if (reply.type == RedisReply::Type::error) {
        spdlog::error("redis_{}_error error=\"{}\"", what, reply.str);
      }
    };
    send(pending, argv);
  };
  if (!endpoint_.password.empty()) {
    if (endpoint_.user.empty()) {
      setup({"AUTH", endpoint_.password}, "auth");
    } else {
      setup({"AUTH", endpoint_.user, endpoint_.password}, "auth");
    }
  }
  if (endpoint_.db != 0) setup({"SELECT", std::to_string(endpoint_.db)}, "select");
  if (endpoint_.password.empty() && endpoint_.db == 0) setup({"PING"}, "ping");
  send_subscribe();
}

void RedisConnection::subscribe(std::string channel,
                                std::function<void(const std::string&)> on_message) {
  channel_ = std::move(channel);
  on_message_ = std::move(on_message);
  send_subscribe();
}

void RedisConnection::send_subscribe() {
  if (!ac_ || channel_.empty()) return;
  const char* args[] = {"SUBSCRIBE", channel_.c_str()};
  const size_t lens[] = {9, channel_.size()};
  // hiredis keeps the callback for the channel's every message.
  if (redisAsyncCommandArgv(ac_, &RedisConnection::on_subscribed, this, 2, args, lens) !=
      REDIS_OK) {
    spdlog::warn("redis_subscribe_error channel={}", channel_);
  }
}

void RedisConnection::on_subscribed(redisAsyncContext*, void* reply, void* privdata) {
  // No reply: the connection went (or is being freed); a new one subscribes.
  if (!reply) return;
  const auto* r = static_cast<const redisReply*>(reply);
  // ["subscribe", channel, count] first, then ["message", channel, payload].
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
  const auto* kind = r->element[0];
  const auto* payload = r->element[2];
  if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message" ||
      payload->type != REDIS_REPLY_STRING) {
    return;
  }
  auto* self = static_cast<RedisConnection*>(privdata);
  if (self->on_message_) self->on_message_(std::string(payload->str, payload->len));
}

void RedisConnection::schedule_reconnect() {
  if (closing_) return;
  reconnect_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
  reconnect_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !closing_ && !ac_) connect();
  });
}

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (status != REDIS_OK) {
    spdlog::warn("redis_connect_error error=\"{}\"", ac->errstr);
    self->ac_ = nullptr;  // hiredis frees the context after this callback
    self->connected_ = false;
    self->schedule_reconnect();
    return;
  }
  self->connected_ = true;
  self->backoff_ = std::chrono::milliseconds(100);
  spdlog::info("redis_connected");
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  self->ac_ = nullptr;
  self->connected_ = false;
  if (self->closing_) return;
  spdlog::warn("redis_disconnected status={} error=\"{}\"", status, ac->errstr ? ac->errstr : "");
  self->schedule_reconnect();
}

void RedisConnection::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* holder = static_cast<std::shared_ptr<Pending>*>(privdata);
  auto pending = std::move(*holder);
  delete holder;
  if (!reply) {
    pending->fail("the Redis connection was lost");
    return;
  }
  pending->finish(nullptr, convert(static_cast<redisReply*>(reply)));
}

void RedisConnection::send(std::shared_ptr<Pending> pending, const std::vector<std::string>& argv) {
  if (!ac_) {
    pending->fail("Redis is not connected");
    return;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* holder = new std::shared_ptr<Pending>(pending);
  if (redisAsyncCommandArgv(ac_, &RedisConnection::on_reply, holder, static_cast<int>(args.size()),
                            args.data(), lens.data()) != REDIS_OK) {
    delete holder;
    pending->fail("Redis refused the command");
  }
}

void RedisConnection::command_then(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                                   std::function<void(std::exception_ptr, RedisReply)> done) {
  auto pending = std::make_shared<Pending>(ctx_);
  // A failure found at once (no connection) is reported on the loop's next
  // turn, as a reply would be: the caller's state is settled by then.
  pending->complete = [&ctx = ctx_, done = std::move(done)](std::exception_ptr e,
                                                            RedisReply r) mutable {
    net::post(ctx,
              [done = std::move(done), e, r = std::move(r)]() mutable { done(e, std::move(r)); });
  };
  pending->timer.expires_after(timeout);
  pending->timer.async_wait([pending, timeout](boost::system::error_code ec) {
    if (!ec)
      pending->fail("Redis did not answer within " + std::to_string(timeout.count()) + " ms");
  });
  send(pending, argv);
}

net::awaitable<RedisReply> RedisConnection::command(std::vector<std::string> argv,
                                                    std::chrono::milliseconds timeout) {
  // Named, not a temporary in the co_await expression (docs/DEVELOPING.md).
  std::function<void(common::OneShot<RedisReply>::Complete)> start =
      [this, argv = std::move(argv), timeout](common::OneShot<RedisReply>::Complete complete) {
        auto pending = std::make_shared<Pending>(ctx_);
        pending->complete = std::move(complete);
        pending->timer.expires_after(timeout);
        pending->timer.async_wait([pending, timeout](boost::system::error_code ec) {
          if (!ec) {
            pending->fail("Redis did not answer within " + std::to_string(timeout.count()) + " ms");
          }
        });
        send(pending, argv);
      };
  auto reply = co_await common::OneShot<RedisReply>::run(std::move(start));
  if (reply.type == RedisReply::Type::error) throw HistoryError("Redis replied: " + reply.str);
  co_return reply;
}

}  // namespace chrysopedia::history

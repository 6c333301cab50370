#include "llm/asio_call.hpp"

#include "llm/asio_call_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/read_queued.hpp"
#include "llm/keep_alive_pool.hpp"
#include "llm/response_parser.hpp"

namespace chrysopedia::llm {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

AsioCall::AsioCall(std::weak_ptr<KeepAlivePool> pool, net::io_context& ctx, HttpUrl url,
                   const CallRequest& request, CallEvents& events)
    : pool_(std::move(pool)),
      url_(std::move(url)),
      key_(url_.host + ":" + url_.port),
      body_(request.body),
      connect_timeout_(request.connect_timeout),
      total_timeout_(request.total_timeout),
      events_(&events),
      socket_(ctx),
      resolver_(ctx),
      total_timer_(ctx),
      connect_timer_(ctx),
      resume_timer_(ctx),
      pace_timer_(ctx) {
  head_.reserve(256);
  head_.append("POST ").append(url_.target).append(" HTTP/1.1\r\nHost: ");
  head_.append(url_.authority).append("\r\nUser-Agent: chrysopedia-chat\r\nContent-Length: ");
  head_.append(std::to_string(body_.size())).append("\r\n");
  for (const auto& h : request.headers) head_.append(h).append("\r\n");
  head_.append("\r\n");
}

void AsioCall::begin() {
  // Runs at once up to its first wait: on a pooled connection the request
  // is written before start() returns (the write is tried at once), so
  // whatever the caller does next overlaps the model reading it.
  starting_ = true;
  net::co_spawn(socket_.get_executor(), run(shared_from_this()), net::detached);
  starting_ = false;
}

void AsioCall::cancel() {
  events_ = nullptr;
  stop();
}

void AsioCall::resume() {
  paused_ = false;
  resume_timer_.cancel();
}

void AsioCall::stop() {
  error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  total_timer_.cancel();
  connect_timer_.cancel();
  resume_timer_.cancel();
  pace_timer_.cancel();
}

CallOutcome AsioCall::failure(LlmError::Kind kind, std::string what, bool retryable) {
  CallOutcome out;
  out.kind = kind;
  out.what = std::move(what);
  out.retryable = retryable;
  return out;
}

net::awaitable<void> AsioCall::run(std::shared_ptr<AsioCall> self) {
  std::weak_ptr<AsioCall> weak = self;
  self->total_timer_.expires_after(self->total_timeout_);
  self->total_timer_.async_wait([weak](error_code ec) {
    auto x = weak.lock();
    if (ec || !x) return;
    x->timed_out_ = true;
    x->stop();
  });
  CallOutcome out = co_await self->call();
  self->total_timer_.cancel();
  if (self->timed_out_ && !out.complete) {
    out = failure(LlmError::Kind::timeout,
                  "the upstream timed out: no complete answer within " +
                      std::to_string(self->total_timeout_.count()) + " ms",
                  false);
  }
  if (self->aborted_) out.complete = false;
  out.status = self->status_;
  // Never inside the caller's start(): on_end must not reach it there.
  if (self->starting_) co_await net::post(self->socket_.get_executor(), net::use_awaitable);
  if (auto* events = self->events_) {
    self->events_ = nullptr;
    events->on_end(std::move(out));
  }
}

void AsioCall::close() {
  error_code ignored;
  socket_.close(ignored);
}

net::awaitable<std::optional<CallOutcome>> AsioCall::connect() {
  close();
  connected_ = false;
  std::weak_ptr<AsioCall> weak = weak_from_this();
  connect_timer_.expires_after(connect_timeout_);
  connect_timer_.async_wait([weak](error_code ec) {
    auto x = weak.lock();
    if (ec || !x || x->connected_) return;
    x->connect_timed_out_ = true;
    x->resolver_.cancel();
    x->close();
  });
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  const auto address = net::ip::make_address(url_.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, static_cast<unsigned short>(std::stoi(url_.port)));
  } else {
    auto [resolve_ec, results] =
        co_await resolver_.async_resolve(url_.host, url_.port, net::as_tuple(net::use_awaitable));
    if (stopped()) co_return CallOutcome{};
    if (resolve_ec) {
      connect_timer_.cancel();
      if (connect_timed_out_) co_return connect_timeout();
      co_return failure(LlmError::Kind::connect,
                        "cannot reach the upstream: could not resolve " + url_.host + " (" +
                            resolve_ec.message() + ")",
                        true);
    }
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  auto [connect_ec, endpoint] =
      co_await net::async_connect(socket_, endpoints, net::as_tuple(net::use_awaitable));
  connected_ = true;
  connect_timer_.cancel();
  if (stopped()) co_return CallOutcome{};
  if (connect_timed_out_) co_return connect_timeout();
  if (connect_ec) {
    co_return failure(LlmError::Kind::connect, "cannot reach the upstream: " + connect_ec.message(),
                      true);
  }
  socket_.set_option(tcp::no_delay(true), ec);
  common::ask_for_queued_count(socket_.native_handle());  // for DrainAwareBuffer
  co_return std::nullopt;
}

CallOutcome AsioCall::connect_timeout() const {
  return failure(LlmError::Kind::timeout,
                 "the upstream timed out: no connection within " +
                     std::to_string(connect_timeout_.count()) + " ms",
                 false);
}

namespace {

class Handle final : public UpstreamCall {
 public:
  explicit Handle(std::shared_ptr<AsioCall> x) : x_(std::move(x)) {}
  ~Handle() override { x_->cancel(); }
  void resume() override { x_->resume(); }
  bool request_sent() const override { return x_->request_sent(); }

 private:
  std::shared_ptr<AsioCall> x_;
};

}  // namespace

std::unique_ptr<UpstreamCall> start_asio_call(std::weak_ptr<KeepAlivePool> pool,
                                              net::io_context& ctx, HttpUrl url,
                                              const CallRequest& request, CallEvents& events) {
  auto call = std::make_shared<AsioCall>(std::move(pool), ctx, std::move(url), request, events);
  call->begin();
  return std::make_unique<Handle>(std::move(call));
}

}  // namespace chrysopedia::llm

#include "chrysopedia/http/server.hpp"

#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/idle_connections.hpp"
#include "http/session.hpp"
#include "http/session_registry.hpp"

namespace chrysopedia::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

struct Worker {
  explicit Worker(unsigned i) : index(i) {}
  // Destroying the loop destroys suspended sessions, which leave the
  // registry: it must outlive the loop and no longer stop it.
  ~Worker() { sessions.on_empty(nullptr); }
  unsigned index;
  SessionRegistry sessions;
  net::io_context ctx{1};
  tcp::acceptor acceptor{ctx};
  net::steady_timer grace{ctx};
  bool stopping = false;
  std::thread thread;
};

net::awaitable<void> accept_loop(Worker& w, const ServerOptions& options,
                                 std::shared_ptr<const Router> router, IdleConnections& idle) {
  for (;;) {
    auto [ec, socket] = co_await w.acceptor.async_accept(net::as_tuple(net::use_awaitable));
    if (ec) {
      if (!w.acceptor.is_open() || ec == net::error::operation_aborted) co_return;
      // Out of descriptors or a transient network error: back off a little
      // rather than spin, and keep serving the connections we have.
      spdlog::warn("http_accept_error worker={} error=\"{}\"", w.index, ec.message());
      net::steady_timer pause(w.ctx, std::chrono::milliseconds(50));
      co_await pause.async_wait(net::as_tuple(net::use_awaitable));
      continue;
    }
    if (w.stopping) continue;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(std::move(socket), options, router, w.sessions, idle);
    session->start();
  }
}

// After a burst of connections has gone, give their memory back to the
// system: glibc keeps freed heap pages (thousands of sessions' buffers and
// coroutine frames, ~8 KiB each) in its arenas, so without this a flood of
// 10,000 abandoned connections leaves the process ~80 MB larger for good.
constexpr std::size_t kTrimAfterClosing = 1000;
constexpr auto kTrimCheckInterval = std::chrono::seconds(2);

net::awaitable<void> release_memory_after_bursts(Worker& w) {
  net::steady_timer timer(w.ctx);
  for (;;) {
    timer.expires_after(kTrimCheckInterval);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec || w.stopping) co_return;
    const std::size_t now = w.sessions.size();
    if (w.sessions.take_peak() < now + kTrimAfterClosing) continue;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
  }
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::shared_ptr<const Router> router;
  std::vector<std::unique_ptr<Worker>> workers;
  Server::WorkerHook on_worker_start;
  std::atomic<std::uint16_t> port{0};
  std::unique_ptr<IdleConnections> idle;

  void begin_stop(Worker& w) {
    if (w.stopping) return;
    w.stopping = true;
    boost::system::error_code ignored;
    w.acceptor.close(ignored);
    // Once the last connection is gone the loop has nothing left worth
    // waiting for (peers' reconnect timers included), so stop it outright.
    w.sessions.on_empty([&w] { w.ctx.stop(); });
    w.sessions.for_each([](Session& s) { s.begin_shutdown(); });
    if (w.sessions.empty()) {
      w.ctx.stop();
      return;
    }
    w.grace.expires_after(options.shutdown_grace);
    w.grace.async_wait([&w](boost::system::error_code ec) {
      if (ec) return;
      spdlog::warn("http_shutdown_forced worker={} open_connections={}", w.index,
                   w.sessions.size());
      w.sessions.for_each([](Session& s) { s.force_close(); });
      // Whatever does not unwind within another second is abandoned.
      w.grace.expires_after(std::chrono::seconds(1));
      w.grace.async_wait([&w](boost::system::error_code ec2) {
        if (!ec2) w.ctx.stop();
      });
    });
  }
};

Server::Server(ServerOptions options, std::shared_ptr<const Router> router)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->router = std::move(router);
  if (impl_->options.workers == 0) impl_->options.workers = 1;
  std::vector<IpAddress> exempt;
  for (const auto& a : impl_->options.idle_cap_exempt) {
    if (auto ip = IpAddress::parse(a)) exempt.push_back(*ip);
  }
  impl_->idle = std::make_unique<IdleConnections>(impl_->options.max_idle_connections_per_client,
                                                  std::move(exempt));
}

Server::~Server() {
  stop();
  wait();
}

void Server::on_worker_start(WorkerHook hook) {
  impl_->on_worker_start = std::move(hook);
}

void Server::start() {
  if (!impl_->workers.empty()) throw std::logic_error("Server::start() called twice");
  const auto address = net::ip::make_address(impl_->options.host);
  const tcp::endpoint endpoint(address, impl_->options.port);
  for (unsigned i = 0; i < impl_->options.workers; ++i) {
    auto w = std::make_unique<Worker>(i);
    if (i == 0) {
      w->acceptor.open(endpoint.protocol());
      w->acceptor.set_option(tcp::acceptor::reuse_address(true));
      w->acceptor.bind(endpoint);
      w->acceptor.listen(net::socket_base::max_listen_connections);
    } else {
      // Every loop accepts on its own descriptor for the one listening
      // socket: whichever loop is free takes the next connection. (Not
      // SO_REUSEPORT, which would let a second server start on our port
      // and silently take half the traffic.)
      const int fd = ::dup(impl_->workers.front()->acceptor.native_handle());
      if (fd < 0) throw std::system_error(errno, std::generic_category(), "dup");
      w->acceptor.assign(endpoint.protocol(), fd);
    }
    impl_->workers.push_back(std::move(w));
  }
  const std::uint16_t port = impl_->workers.front()->acceptor.local_endpoint().port();
  impl_->port = port;
  for (auto& wp : impl_->workers) {
    Worker& w = *wp;
    w.thread = std::thread([this, &w] {
      std::shared_ptr<void> resources;
      if (impl_->on_worker_start) resources = impl_->on_worker_start(w.index, w.ctx);
      net::co_spawn(w.ctx, accept_loop(w, impl_->options, impl_->router, *impl_->idle),
                    net::detached);
      net::co_spawn(w.ctx, release_memory_after_bursts(w), net::detached);
      w.ctx.run();
      resources.reset();
    });
  }
}

std::uint16_t Server::port() const {
  return impl_->port;
}

void Server::stop() {
  for (auto& wp : impl_->workers) {
    Worker& w = *wp;
    net::post(w.ctx, [this, &w] { impl_->begin_stop(w); });
  }
}

void Server::wait() {
  for (auto& w : impl_->workers) {
    if (w->thread.joinable()) w->thread.join();
  }
}

std::size_t Server::open_connections() const {
  std::size_t n = 0;
  for (const auto& w : impl_->workers) n += w->sessions.size();
  return n;
}

}  // namespace chrysopedia::http

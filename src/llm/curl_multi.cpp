#include "llm/curl_multi.hpp"

#include "llm/curl_loop.hpp"

#include <poll.h>

#include <boost/asio/post.hpp>

namespace chrysopedia::llm {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

CurlMulti::CurlMulti(net::io_context& ctx) : ctx_(ctx), timer_(ctx) {
  static GlobalInit once;  // thread-safe, before the first multi handle
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlMulti::~CurlMulti() {
  for (auto& [easy, done] : transfers_) curl_multi_remove_handle(multi_, easy);
  transfers_.clear();
  curl_multi_cleanup(multi_);
  timer_.cancel();
}

void CurlMulti::add(CURL* easy, Done done) {
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlMulti::open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlMulti::close_socket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  transfers_[easy] = std::move(done);
  curl_multi_add_handle(multi_, easy);  // arms the timer; work starts on the loop
}

void CurlMulti::remove(CURL* easy) {
  if (transfers_.erase(easy) == 0) return;
  curl_multi_remove_handle(multi_, easy);
}

curl_socket_t CurlMulti::open_socket(void* self_ptr, curlsocktype purpose,
                                     struct curl_sockaddr* address) {
  auto* self = static_cast<CurlMulti*>(self_ptr);
  if (purpose != CURLSOCKTYPE_IPCXN ||
      (address->family != AF_INET && address->family != AF_INET6)) {
    return CURL_SOCKET_BAD;
  }
  auto sock = std::make_unique<Socket>(self->ctx_);
  boost::system::error_code ec;
  sock->socket.open(address->family == AF_INET ? tcp::v4() : tcp::v6(), ec);
  if (ec) return CURL_SOCKET_BAD;
  sock->id = self->next_socket_id_++;
  const curl_socket_t fd = sock->socket.native_handle();
  self->sockets_[fd] = std::move(sock);
  return fd;
}

int CurlMulti::close_socket(void* self_ptr, curl_socket_t s) {
  auto* self = static_cast<CurlMulti*>(self_ptr);
  auto it = self->sockets_.find(s);
  if (it == self->sockets_.end()) return 0;
  boost::system::error_code ec;
  it->second->socket.close(ec);  // completes pending waits with operation_aborted
  self->sockets_.erase(it);
  return 0;
}

int CurlMulti::on_socket(CURL*, curl_socket_t s, int what, void* self_ptr, void*) {
  auto* self = static_cast<CurlMulti*>(self_ptr);
  auto it = self->sockets_.find(s);
  if (it == self->sockets_.end()) return 0;
  Socket& sock = *it->second;
  sock.wanted = what == CURL_POLL_REMOVE ? 0 : what;
  // A wait curl no longer wants is cancelled: left pending it would keep the
  // loop busy forever on an idle pooled connection, and fire for nothing.
  const bool stale_read = sock.reading && !(sock.wanted & CURL_POLL_IN);
  const bool stale_write = sock.writing && !(sock.wanted & CURL_POLL_OUT);
  if (stale_read || stale_write) {
    boost::system::error_code ignored;
    sock.socket.cancel(ignored);  // both directions; watch() re-arms the wanted one
    sock.reading = sock.writing = false;
    ++sock.read_wait;
    ++sock.write_wait;
  }
  self->watch(s);
  return 0;
}

CurlMulti::Socket* CurlMulti::find(curl_socket_t s, std::uint64_t id) {
  auto it = sockets_.find(s);
  return it != sockets_.end() && it->second->id == id ? it->second.get() : nullptr;
}

// Keeps one wait per direction outstanding while curl wants that direction.
// Handlers look the socket up again: it may have been closed (and its
// descriptor reused) while their completion sat in the queue.
//
// Asio's epoll reactor is edge-triggered, curl expects level-triggered
// readiness: curl may leave bytes unread (one buffer per call), and no new
// edge will come for them. So readiness is checked first (a zero-timeout
// poll), and only a socket that is not ready now gets a wait.
void CurlMulti::watch(curl_socket_t s) {
  auto it = sockets_.find(s);
  if (it == sockets_.end()) return;
  Socket& sock = *it->second;
  const std::uint64_t id = sock.id;
  const bool want_in = (sock.wanted & CURL_POLL_IN) && !sock.reading;
  const bool want_out = (sock.wanted & CURL_POLL_OUT) && !sock.writing;
  if (!want_in && !want_out) return;
  pollfd p{s, static_cast<short>((want_in ? POLLIN : 0) | (want_out ? POLLOUT : 0)), 0};
  if (::poll(&p, 1, 0) > 0 && p.revents != 0) {
    int events = 0;
    if (p.revents & (POLLERR | POLLNVAL)) events |= CURL_CSELECT_ERR;
    if (p.revents & (POLLIN | POLLHUP)) events |= CURL_CSELECT_IN;
    if (p.revents & POLLOUT) events |= CURL_CSELECT_OUT;
    // Posted, not called: curl may be the caller of this very function.
    sock.reading = want_in || sock.reading;
    sock.writing = want_out || sock.writing;
    const std::uint64_t read_token = want_in ? ++sock.read_wait : 0;
    const std::uint64_t write_token = want_out ? ++sock.write_wait : 0;
    net::post(ctx_, [this, s, id, events, read_token, write_token] {
      Socket* current = find(s, id);
      if (!current) return;
      const bool mine_in = read_token != 0 && current->read_wait == read_token;
      const bool mine_out = write_token != 0 && current->write_wait == write_token;
      if (!mine_in && !mine_out) return;  // superseded by a newer wait
      if (mine_in) current->reading = false;
      if (mine_out) current->writing = false;
      action(s, events);
    });
    return;
  }
  if (want_in) arm(s, sock, true);
  if (want_out) arm(s, sock, false);
}

// One wait in one direction; its token lets a cancelled wait's late
// handler see that it has been replaced.
void CurlMulti::arm(curl_socket_t s, Socket& sock, bool read) {
  bool Socket::*busy = read ? &Socket::reading : &Socket::writing;
  std::uint64_t Socket::*current_wait = read ? &Socket::read_wait : &Socket::write_wait;
  sock.*busy = true;
  const std::uint64_t token = ++(sock.*current_wait);
  sock.socket.async_wait(
      read ? tcp::socket::wait_read : tcp::socket::wait_write,
      [this, s, id = sock.id, token, busy, current_wait, read](boost::system::error_code ec) {
        Socket* current = find(s, id);
        if (!current || current->*current_wait != token) return;
        current->*busy = false;
        if (ec == net::error::operation_aborted) return;
        action(s, ec ? CURL_CSELECT_ERR : (read ? CURL_CSELECT_IN : CURL_CSELECT_OUT));
      });
}

void CurlMulti::action(curl_socket_t s, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, s, events, &running);
  collect_done();
  watch(s);  // re-arm if curl still wants it (and it still exists)
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<CurlMulti*>(self_ptr);
  self->timer_.cancel();
  if (timeout_ms < 0) return 0;
  self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  self->timer_.async_wait([self](boost::system::error_code ec) {
    if (ec) return;
    int running = 0;
    curl_multi_socket_action(self->multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    self->collect_done();
  });
  return 0;
}

void CurlMulti::collect_done() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    Done done = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, easy);
    // Later: the callback may start another transfer (a retry) or free
    // the handle, neither of which curl allows from inside its own call.
    net::post(ctx_, [done = std::move(done), result] { done(result); });
  }
}

}  // namespace chrysopedia::llm

namespace chrysopedia::llm {

std::shared_ptr<CurlMulti> make_curl_multi(boost::asio::io_context& ctx) {
  return std::make_shared<CurlMulti>(ctx);
}

}  // namespace chrysopedia::llm

#include "llm/keep_alive_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace chrysopedia::llm {

using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// A pooled connection unused this long is closed rather than kept: servers
// drop idle keep-alive connections after a while anyway.
constexpr auto kIdleLimit = std::chrono::seconds(30);

}  // namespace

std::optional<tcp::socket> KeepAlivePool::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return std::nullopt;
  auto& list = it->second;
  while (!list.empty()) {
    tcp::socket s = std::move(list.back().socket);
    list.pop_back();
    // A connection the server has closed (or that holds stray bytes)
    // reads as ready; a live idle one has nothing to say.
    char c;
    const auto n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return s;
    error_code ignored;
    s.close(ignored);
  }
  return std::nullopt;
}

void KeepAlivePool::give_back(const std::string& key, tcp::socket socket) {
  auto& list = idle_[key];
  const auto now = Clock::now();
  while (!list.empty() && now - list.front().since > kIdleLimit) {
    error_code ignored;
    list.front().socket.close(ignored);
    list.pop_front();
  }
  list.push_back({std::move(socket), now});
}

}  // namespace chrysopedia::llm

#pragma once

#include <functional>
#include <memory>
#include <unordered_map>

#include <curl/curl.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace chrysopedia::llm {

/// libcurl's multi interface driven by one Asio event loop: curl tells us
/// which sockets to watch and when to wake it (socket and timer callbacks),
/// Asio waits, and curl_multi_socket_action does the work. No thread per
/// transfer, nothing blocking, and connections are reused across transfers.
/// Asio owns the sockets (curl's open/close socket callbacks), so a socket
/// is never closed under a pending wait.
class CurlMulti {
 public:
  /// Called once when a transfer ends, with curl's result code.
  using Done = std::function<void(CURLcode)>;

  explicit CurlMulti(boost::asio::io_context& ctx);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  /// Adds a configured easy handle; `done` runs on the loop when it ends.
  void add(CURL* easy, Done done);

  /// Removes a transfer now (cancellation); `done` is not called. Closes
  /// its connection if the transfer was still running.
  void remove(CURL* easy);

  boost::asio::io_context& context() { return ctx_; }

 private:
  struct Socket {
    explicit Socket(boost::asio::io_context& ctx) : socket(ctx) {}
    boost::asio::ip::tcp::socket socket;
    std::uint64_t id = 0;  // descriptors get reused; ids do not
    int wanted = 0;        // CURL_POLL_IN/OUT bits curl asked for
    bool reading = false;
    bool writing = false;
    // Which wait is the current one: a cancelled wait's late handler must
    // not clear the flag of the wait that replaced it.
    std::uint64_t read_wait = 0;
    std::uint64_t write_wait = 0;
  };

  static int on_socket(CURL* easy, curl_socket_t s, int what, void* self, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  static curl_socket_t open_socket(void* self, curlsocktype purpose, struct curl_sockaddr* address);
  static int close_socket(void* self, curl_socket_t s);

  void watch(curl_socket_t s);
  void arm(curl_socket_t s, Socket& sock, bool read);
  void action(curl_socket_t s, int events);
  Socket* find(curl_socket_t s, std::uint64_t id);
  void collect_done();

  boost::asio::io_context& ctx_;
  CURLM* multi_;
  boost::asio::steady_timer timer_;
  std::unordered_map<curl_socket_t, std::unique_ptr<Socket>> sockets_;
  std::unordered_map<CURL*, Done> transfers_;
  std::uint64_t next_socket_id_ = 1;
};

}  // namespace chrysopedia::llm

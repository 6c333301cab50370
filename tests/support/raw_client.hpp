#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace chrysopedia::test {

using namespace std::chrono_literals;

/// A deliberately low-level HTTP/1.1 client over a blocking loopback socket,
/// so tests can misbehave exactly: trickle bytes, stall, pipeline, vanish.
class RawClient {
 public:
  /// Connects to 127.0.0.1:port. A non-zero receive buffer is set before
  /// connecting, to make a stalled reader fill up quickly.
  explicit RawClient(std::uint16_t port, int receive_buffer = 0);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// Sends all bytes; false when the peer has gone.
  bool send(std::string_view bytes);

  struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  ///< lower-cased names
    std::string body;                            ///< de-chunked
    std::string header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? std::string() : it->second;
    }
  };

  /// Reads a whole response (Content-Length or chunked). Throws on timeout
  /// or when the connection closes first.
  Response read_response(std::chrono::milliseconds timeout = 5s);

  /// Reads only the status line and headers (an interim 100 included).
  Response read_head(std::chrono::milliseconds timeout = 5s);

  /// After read_head of a chunked response: the next chunk's payload, or
  /// nullopt at the terminating chunk. Throws on timeout or close.
  std::optional<std::string> read_chunk(std::chrono::milliseconds timeout = 5s);

  /// Everything the server sends until it closes the connection (for
  /// answers delimited by the close, as to HTTP/1.0). Throws on timeout.
  std::string read_until_closed(std::chrono::milliseconds timeout = 5s);

  /// Waits for the server to close the connection; true if it did in time.
  bool wait_closed(std::chrono::milliseconds timeout);

  void close();

  /// TCP segments received so far (TCP_INFO): one per write of the server,
  /// however the reads here happen to merge them.
  unsigned segments_in() const;

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // false on EOF
  std::string read_line(std::chrono::steady_clock::time_point deadline);
  std::string read_exact(std::size_t n, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buf_;
};

/// Builds a request with Host and, if a body is given, Content-Length.
std::string make_request(std::string_view method, std::string_view target,
                         std::string_view body = {}, std::string_view extra_headers = {});

}  // namespace chrysopedia::test

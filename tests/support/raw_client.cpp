#include "support/raw_client.hpp"

#include <arpa/inet.h>
#include <linux/tcp.h>  // tcp_info with tcpi_segs_in (glibc's lacks it)
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace chrysopedia::test {

using Clock = std::chrono::steady_clock;

RawClient::RawClient(std::uint16_t port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect: " + err);
  }
}

RawClient::~RawClient() {
  close();
}

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawClient::fill(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) throw std::runtime_error("timed out waiting for the server");
  pollfd p{fd_, POLLIN, 0};
  const int r = ::poll(&p, 1, static_cast<int>(left.count()));
  if (r == 0) throw std::runtime_error("timed out waiting for the server");
  if (r < 0) throw std::runtime_error("poll: " + std::string(std::strerror(errno)));
  char tmp[16384];
  const auto n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<std::size_t>(n));
  return true;
}

std::string RawClient::read_line(Clock::time_point deadline) {
  for (;;) {
    if (const auto pos = buf_.find("\r\n"); pos != std::string::npos) {
      std::string line = buf_.substr(0, pos);
      buf_.erase(0, pos + 2);
      return line;
    }
    if (!fill(deadline)) throw std::runtime_error("connection closed mid-line");
  }
}

std::string RawClient::read_exact(std::size_t n, Clock::time_point deadline) {
  while (buf_.size() < n) {
    if (!fill(deadline)) throw std::runtime_error("connection closed mid-body");
  }
  std::string out = buf_.substr(0, n);
  buf_.erase(0, n);
  return out;
}

RawClient::Response RawClient::read_head(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Response r;
  std::string status_line;
  do {
    status_line = read_line(deadline);
  } while (status_line.empty());
  if (status_line.rfind("HTTP/1.", 0) != 0) throw std::runtime_error("bad status line");
  r.status = std::stoi(status_line.substr(9, 3));
  for (;;) {
    const std::string line = read_line(deadline);
    if (line.empty()) break;
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  return r;
}

std::optional<std::string> RawClient::read_chunk(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string size_line = read_line(deadline);
  const std::size_t size = std::stoul(size_line, nullptr, 16);
  if (size == 0) {
    read_line(deadline);  // the blank line after the last chunk
    return std::nullopt;
  }
  std::string data = read_exact(size, deadline);
  read_exact(2, deadline);
  return data;
}

RawClient::Response RawClient::read_response(std::chrono::milliseconds timeout) {
  Response r = read_head(timeout);
  while (r.status == 100) r = read_head(timeout);  // interim `100 Continue`
  const auto deadline = Clock::now() + timeout;
  if (r.header("transfer-encoding") == "chunked") {
    while (auto chunk = read_chunk(timeout)) r.body += *chunk;
  } else if (!r.header("content-length").empty()) {
    r.body = read_exact(std::stoul(r.header("content-length")), deadline);
  }
  return r;
}

std::string RawClient::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fill(deadline)) {
  }
  std::string out;
  out.swap(buf_);
  return out;
}

bool RawClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  try {
    while (fill(deadline)) {
    }
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

std::string make_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view extra_headers) {
  std::string r;
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  r.append(extra_headers);
  if (!body.empty() || method == "POST") {
    r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  r.append("\r\n").append(body);
  return r;
}

unsigned RawClient::segments_in() const {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
  return info.tcpi_segs_in;
}

}  // namespace chrysopedia::test

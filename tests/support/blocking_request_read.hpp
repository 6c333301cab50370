#pragma once

// For upstreams written as a thread of blocking calls in a test: reads one
// HTTP request (its head and a Content-Length body) from `s`.
#include <string>

#include <boost/asio/ip/tcp.hpp>

namespace chrysopedia::test {

/// The request as read; `ec` says why it ended early (the peer closed).
inline std::string read_one_request(boost::asio::ip::tcp::socket& s,
                                    boost::system::error_code& ec) {
  std::string in;
  char buf[4096];
  std::size_t need = std::string::npos;
  while (need == std::string::npos || in.size() < need) {
    const auto n = s.read_some(boost::asio::buffer(buf), ec);
    if (ec) break;
    in.append(buf, n);
    const auto end = in.find("\r\n\r\n");
    if (end != std::string::npos && need == std::string::npos) {
      const auto cl = in.find("Content-Length: ");
      need = end + 4 + std::stoul(in.substr(cl + 16));
    }
  }
  return in;
}

}  // namespace chrysopedia::test

#pragma once

#include <optional>
#include <string>

namespace chrysopedia::config {

/// Where and how to reach Redis, from REDIS_URL:
/// `redis://[[user]:password@]host[:port][/db]` or
/// `unix:///path/to/socket[?db=N&password=P&user=U]`.
struct RedisEndpoint {
  bool unix_socket = false;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string path;  ///< the socket, when unix_socket
  std::string user;
  std::string password;
  int db = 0;
};

/// nullopt when the URL is not one of those shapes.
std::optional<RedisEndpoint> parse_redis_url(const std::string& url);

}  // namespace chrysopedia::config

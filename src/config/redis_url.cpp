#include "chrysopedia/config/redis_url.hpp"

#include <charconv>

#include "common/url.hpp"

namespace chrysopedia::config {

namespace {

std::optional<int> to_int(const std::string& s, int lo, int hi) {
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) {
    return std::nullopt;
  }
  return v;
}

bool decode(const std::string& in, std::string& out) {
  return common::percent_decode(in, out);
}

}  // namespace

std::optional<RedisEndpoint> parse_redis_url(const std::string& url) {
  const auto u = common::parse_url(url);
  if (!u) return std::nullopt;
  RedisEndpoint ep;
  if (u->scheme == "redis") {
    if (u->host.empty()) return std::nullopt;
    ep.host = u->host;
    if (u->port) ep.port = *u->port;
    if (u->path.size() > 1) {
      const auto db = to_int(u->path.substr(1), 0, 65535);
      if (!db) return std::nullopt;
      ep.db = *db;
    }
    if (!decode(u->user, ep.user)) return std::nullopt;
    if (u->password && !decode(*u->password, ep.password)) return std::nullopt;
    return ep;
  }
  if (u->scheme == "unix") {
    // The splitter starts the path at '#' too; a socket path must be absolute.
    if (u->path.size() < 2 || u->path.front() != '/') return std::nullopt;
    ep.unix_socket = true;
    ep.path = u->path;
    std::size_t start = 0;
    const std::string& q = u->query;
    while (start < q.size()) {
      auto end = q.find('&', start);
      if (end == std::string::npos) end = q.size();
      const std::string pair = q.substr(start, end - start);
      start = end + 1;
      const auto eq = pair.find('=');
      if (eq == std::string::npos) return std::nullopt;
      const std::string key = pair.substr(0, eq);
      std::string value;
      if (!decode(pair.substr(eq + 1), value)) return std::nullopt;
      if (key == "db") {
        const auto db = to_int(value, 0, 65535);
        if (!db) return std::nullopt;
        ep.db = *db;
      } else if (key == "password") {
        ep.password = value;
      } else if (key == "user") {
        ep.user = value;
      } else {
        return std::nullopt;
      }
    }
    return ep;
  }
  return std::nullopt;
}

}  // namespace chrysopedia::config

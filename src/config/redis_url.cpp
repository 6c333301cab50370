#include "chrysopedia/config/redis_url.hpp"

#include <charconv>

#include <boost/url/parse_query.hpp>

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
    // A socket path must be absolute.
    if (u->path.size() < 2 || u->path.front() != '/') return std::nullopt;
    ep.unix_socket = true;
    ep.path = u->path;
    // (An empty query would parse as one empty parameter.)
    const auto params = boost::urls::parse_query(u->query);
    if (!params) return std::nullopt;
    for (const auto& param : u->query.empty() ? boost::urls::params_encoded_view() : *params) {
      if (!param.has_value) return std::nullopt;
      const std::string value = param.value.decode();
      if (param.key == "db") {
        const auto db = to_int(value, 0, 65535);
        if (!db) return std::nullopt;
        ep.db = *db;
      } else if (param.key == "password") {
        ep.password = value;
      } else if (param.key == "user") {
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

// DATABASE_URL, REDIS_URL and the model's URL: the shared splitter, the
// Redis parser and the redaction used whenever settings are logged. An
// accepted URL redacts to one that splits into the same parts with every
// password masked, and redacting twice changes nothing.

#include <cstdint>
#include <string>
#include <string_view>

#include "chrysopedia/config/redis_url.hpp"
#include "chrysopedia/config/settings.hpp"
#include "common/url.hpp"
#include "fuzz_check.hpp"

using chrysopedia::common::parse_url;
using chrysopedia::config::parse_redis_url;
using chrysopedia::config::redact_url;

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A query key as libpq reads it: percent-decoded, a bad escape kept as is.
std::string decode_lower(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool secret_key(std::string_view key) {
  const std::string k = decode_lower(key);
  for (std::string_view word : {"password", "secret", "token", "key"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  return false;
}

bool no_space_or_control(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  const auto parts = parse_url(url);
  const std::string redacted = redact_url(url);
  if (!parts) {
    // Not understood: it may hold a secret anywhere, so nothing of it shows.
    FUZZ_CHECK(redacted == (url.empty() ? "" : "***"));
    FUZZ_CHECK(!parse_redis_url(url));
    return 0;
  }

  FUZZ_CHECK(no_space_or_control(url));
  FUZZ_CHECK(!parts->scheme.empty());
  for (char c : parts->scheme) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  if (parts->port) FUZZ_CHECK(*parts->port >= 1 && *parts->port <= 65535);

  const auto masked = parse_url(redacted);
  FUZZ_CHECK(masked.has_value());
  FUZZ_CHECK(masked->scheme == parts->scheme);
  FUZZ_CHECK(masked->user == parts->user);
  FUZZ_CHECK(masked->host == parts->host);
  FUZZ_CHECK(masked->port == parts->port);
  FUZZ_CHECK(masked->path == parts->path);
  FUZZ_CHECK(masked->password.has_value() == parts->password.has_value());
  if (masked->password) FUZZ_CHECK(*masked->password == "***");
  // The query keeps its parameters in order, secret values masked.
  std::size_t pairs = 0;
  for (std::size_t start = 0; start <= masked->query.size() && !masked->query.empty();) {
    auto end = masked->query.find('&', start);
    if (end == std::string::npos) end = masked->query.size();
    const std::string_view pair = std::string_view(masked->query).substr(start, end - start);
    if (const auto eq = pair.find('=');
        eq != std::string_view::npos && secret_key(pair.substr(0, eq))) {
      FUZZ_CHECK(pair.substr(eq + 1) == "***");
    }
    ++pairs;
    start = end + 1;
  }
  std::size_t original_pairs = 0;
  if (!parts->query.empty()) {
    for (char c : parts->query) original_pairs += c == '&';
    ++original_pairs;
  }
  FUZZ_CHECK(pairs == original_pairs);
  FUZZ_CHECK(redact_url(redacted) == redacted);

  if (const auto redis = parse_redis_url(url)) {
    FUZZ_CHECK(parts->scheme == "redis" || parts->scheme == "unix");
    FUZZ_CHECK(redis->db >= 0 && redis->db <= 65535);
    if (redis->unix_socket) {
      FUZZ_CHECK(parts->scheme == "unix");
      FUZZ_CHECK(redis->path.size() >= 2 && redis->path.front() == '/');
    } else {
      FUZZ_CHECK(parts->scheme == "redis");
      FUZZ_CHECK(!redis->host.empty());
      FUZZ_CHECK(redis->port >= 1 && redis->port <= 65535);
    }
  }
  return 0;
}

#include "config/setting_values.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "chrysopedia/config/redis_url.hpp"
#include "common/ascii.hpp"
#include "common/url.hpp"

namespace chrysopedia::config::values {

double parse_double(const std::string& text, double lo, double hi, const char* what) {
  if (text.empty()) throw Invalid{"is not " + std::string(what)};
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream os;
    os << "is not " << what << " (" << lo << "-" << hi << ")";
    throw Invalid{os.str()};
  }
  return v;
}

bool parse_bool(const std::string& text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  throw Invalid{"is not a boolean (true or false)"};
}

std::chrono::milliseconds parse_seconds(const std::string& text, double lo, double hi) {
  const double s = parse_double(text, lo, hi, "a number of seconds");
  return std::chrono::milliseconds(static_cast<long long>(std::llround(s * 1000.0)));
}

std::string parse_host(const std::string& text) {
  if (text == "localhost") return "127.0.0.1";
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1)
    return text;
  throw Invalid{"is not an IP address to listen on (such as 0.0.0.0, 127.0.0.1 or ::)"};
}

std::string parse_one_of(const std::string& text, std::initializer_list<const char*> allowed) {
  std::string lowered;
  for (char c : text) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string list;
  for (const char* a : allowed) {
    if (lowered == a) return lowered;
    list += list.empty() ? a : std::string(", ") + a;
  }
  throw Invalid{"is not one of " + list};
}

std::string parse_database_url(const std::string& text) {
  const auto u = common::parse_url(text);
  if (!u || (u->scheme != "postgresql" && u->scheme != "postgres")) {
    throw Invalid{
        "is not a postgresql://[user[:password]@]host[:port]/dbname URL (in a password, write "
        "@ : / ? # as %40 %3A %2F %3F %23)"};
  }
  return text;
}

std::string parse_redis_url(const std::string& text) {
  if (text.empty()) return text;
  if (config::parse_redis_url(text)) return text;
  throw Invalid{
      "is not a redis://[user:password@]host[:port][/db] or unix:///path[?db=N] URL (empty "
      "disables memory; in a password, write @ : / ? # as %40 %3A %2F %3F %23)"};
}

std::string parse_http_url(const std::string& text) {
  if (text.empty()) return text;
  const auto u = common::parse_url(text);
  if (!u || (u->scheme != "http" && u->scheme != "https") || u->host.empty()) {
    throw Invalid{"is not an http:// or https:// URL (empty uses the offline answerer)"};
  }
  // The client appends /chat/completions; a trailing slash would double it.
  std::string out = text;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

// Comma-separated items, blanks around them trimmed; an all-blank list is
// empty, an empty item between commas is a mistake.
std::vector<std::string> split_list(const std::string& text, const char* what) {
  std::vector<std::string> out;
  if (text.find_first_not_of(" \t,") == std::string::npos) return out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const auto item = common::trim_ows(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (item.empty()) throw Invalid{std::string("has an empty entry; list ") + what};
    out.emplace_back(item);
  }
  return out;
}

// An origin is what a browser sends in `Origin`: scheme, host and port,
// lower-case, nothing after them.
std::vector<std::string> parse_origins(const std::string& text) {
  std::vector<std::string> out = split_list(text, "origins such as https://app.example.com, or *");
  for (auto& item : out) {
    if (item == "*") continue;
    for (auto& c : item) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (item.size() > 1 && item.back() == '/') item.pop_back();
    const auto u = common::parse_url(item);
    if (!u || (u->scheme != "http" && u->scheme != "https") || u->host.empty() ||
        !u->path.empty() || !u->query.empty() || !u->user.empty() ||
        item.find_first_of(" \t*") != std::string::npos) {
      throw Invalid{"has \"" + item +
                    "\", which is not an origin (scheme://host[:port], such as "
                    "https://app.example.com) or *"};
    }
  }
  return out;
}

// The value is secret: no reason may quote any of it.
std::vector<std::string> parse_api_keys(const std::string& text) {
  auto keys = split_list(text, "keys separated by commas");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    const auto n = std::to_string(i + 1);
    if (k.size() < 16) {
      throw Invalid{"has a key (number " + n + ") of " + std::to_string(k.size()) +
                    " characters; use at least 16 (e.g. openssl rand -hex 24)"};
    }
    for (char c : k) {
      if (c <= ' ' || c > '~') {
        throw Invalid{"has a key (number " + n +
                      ") with a character that cannot go in a header; use letters, digits "
                      "and punctuation other than commas"};
      }
    }
  }
  return keys;
}

std::vector<std::string> parse_proxies(const std::string& text) {
  auto items = split_list(text, "IP addresses separated by commas");
  for (auto& item : items) {
    unsigned char buf[16];
    char out[64];
    if (inet_pton(AF_INET, item.c_str(), buf) == 1) {
      inet_ntop(AF_INET, buf, out, sizeof out);
    } else if (inet_pton(AF_INET6, item.c_str(), buf) == 1) {
      inet_ntop(AF_INET6, buf, out, sizeof out);
    } else {
      throw Invalid{"has \"" + item +
                    "\", which is not an IP address (list the proxies' addresses, such as "
                    "10.0.0.5, separated by commas)"};
    }
    item = out;
  }
  return items;
}

}  // namespace chrysopedia::config::values

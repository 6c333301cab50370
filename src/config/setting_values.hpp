#pragma once

#include <charconv>
#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

// How each kind of setting is read from its text: the loader's parsers,
// each refusing a bad value with the reason, in words a user can act on.
namespace chrysopedia::config::values {

/// Why a value was refused; the loader adds the variable's name and origin.
struct Invalid {
  std::string reason;
};

template <typename Int>
Int parse_int(const std::string& text, Int lo, Int hi, const char* what) {
  long long v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < lo || v > hi) {
    throw Invalid{"is not " + std::string(what) + " (" + std::to_string(lo) + "-" +
                  std::to_string(hi) + ")"};
  }
  return static_cast<Int>(v);
}

double parse_double(const std::string& text, double lo, double hi, const char* what);
bool parse_bool(const std::string& text);
std::chrono::milliseconds parse_seconds(const std::string& text, double lo, double hi);
std::string parse_host(const std::string& text);
std::string parse_one_of(const std::string& text, std::initializer_list<const char*> allowed);
std::string parse_database_url(const std::string& text);
std::string parse_redis_url(const std::string& text);
std::string parse_http_url(const std::string& text);

// Comma-separated items, blanks around them trimmed; an all-blank list is
// empty, an empty item between commas is a mistake.
std::vector<std::string> split_list(const std::string& text, const char* what);

// An origin is what a browser sends in `Origin`: scheme, host and port,
// lower-case, nothing after them.
std::vector<std::string> parse_origins(const std::string& text);

// The value is secret: no reason may quote any of it.
std::vector<std::string> parse_api_keys(const std::string& text);

std::vector<std::string> parse_proxies(const std::string& text);

}  // namespace chrysopedia::config::values

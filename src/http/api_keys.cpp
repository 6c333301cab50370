#include "http/api_keys.hpp"

#include <cctype>

namespace chrysopedia::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool starts_with_bearer(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return false;
  }
  return true;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  // `volatile` keeps the compiler from turning the loop into an early exit.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  if (b.empty()) return a.empty();
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Indexing modulo b's length reads b without a branch on its length.
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i % b.size()]);
  }
  return diff == 0;
}

std::optional<std::string_view> presented_api_key(const Request& request) {
  if (const auto auth = request.header("authorization"); auth && starts_with_bearer(*auth)) {
    const auto key = trim(auth->substr(7));
    if (!key.empty()) return key;
  }
  if (const auto key = request.header("x-api-key")) {
    const auto trimmed = trim(*key);
    if (!trimmed.empty()) return trimmed;
  }
  return std::nullopt;
}

int ApiKeys::match(std::string_view presented) const {
  int found = -1;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    // No early return: the loop takes as long whichever key matches.
    const bool equal = constant_time_equal(presented, keys_[i]);
    found = equal && found < 0 ? static_cast<int>(i) : found;
  }
  return found;
}

}  // namespace chrysopedia::http

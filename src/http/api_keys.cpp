#include "http/api_keys.hpp"

#include <cctype>
#include <stdexcept>

#include <openssl/evp.h>

#include "common/ascii.hpp"
#include "common/hex.hpp"

namespace chrysopedia::http {

namespace {

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
    const auto key = common::trim_ows(auth->substr(7));
    if (!key.empty()) return key;
  }
  if (const auto key = request.header("x-api-key")) {
    const auto trimmed = common::trim_ows(*key);
    if (!trimmed.empty()) return trimmed;
  }
  return std::nullopt;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return common::to_hex(digest, size);
}

ApiKeys::ApiKeys(std::vector<std::string> keys) : keys_(std::move(keys)) {
  owners_.reserve(keys_.size());
  for (const auto& key : keys_) owners_.push_back("key." + sha256_hex(key).substr(0, 32));
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

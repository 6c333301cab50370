#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chrysopedia/http/request.hpp"

namespace chrysopedia::http {

/// True when `a` and `b` hold the same bytes. The time taken depends on
/// `a`'s length only (pass what the client sent as `a`), never on where the
/// first difference is nor on `b`'s length, so timing tells a guesser
/// nothing about the secret.
bool constant_time_equal(std::string_view a, std::string_view b);

/// SHA-256 of `text`, in lower-case hex.
std::string sha256_hex(std::string_view text);

/// The key a request presents: `Authorization: Bearer <key>`, else
/// `X-API-Key: <key>`; nullopt when it presents neither.
std::optional<std::string_view> presented_api_key(const Request& request);

/// The keys allowed to call the API (`CHAT_API_KEYS`); none means open.
class ApiKeys {
 public:
  explicit ApiKeys(std::vector<std::string> keys);

  bool enabled() const { return !keys_.empty(); }

  /// The position of the key `presented` equals, or -1. Every key is
  /// compared in full whatever matches, so the time does not say which.
  int match(std::string_view presented) const;

  /// The owner name of the key at `index` (Request::owner): `key.` and 32
  /// hex digits of its SHA-256. Stable while the key is (its position in
  /// the list may change), and it tells nothing of the key where it is
  /// stored (Redis key names).
  const std::string& owner(int index) const { return owners_.at(static_cast<std::size_t>(index)); }

 private:
  std::vector<std::string> keys_;
  std::vector<std::string> owners_;
};

}  // namespace chrysopedia::http

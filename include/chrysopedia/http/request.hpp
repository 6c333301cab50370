#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chrysopedia::http {

/// One HTTP request as handlers see it: plain values, no Beast types, so
/// handler code compiles without the HTTP library's headers.
struct Request {
  std::string method;  ///< upper case, as sent ("GET", "POST", ...)
  std::string target;  ///< path and query as sent
  std::string path;    ///< target without the query
  std::string query;   ///< after '?', undecoded
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  std::string request_id;    ///< X-Request-Id given by the client, or made up
  std::string peer_address;  ///< the connection's peer IP (a proxy's, behind one)
  std::unordered_map<std::string, std::string> params;  ///< from `{name}` route segments
  /// Whom the request acts for, set by the access guard: with API keys on,
  /// `key.` and the fingerprint of the key it presented; empty without
  /// keys. What a request stores (a conversation) belongs to its owner.
  std::string owner;

  /// The first value of a header, by case-insensitive name.
  std::optional<std::string_view> header(std::string_view name) const;
};

/// A complete (non-streamed) response.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
};

}  // namespace chrysopedia::http

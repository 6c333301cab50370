#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chrysopedia::common {

/// The parts of a `scheme://[user[:password]@]host[:port][/path][?query]`
/// URL that the service needs to check and redact; nothing is decoded.
struct UrlParts {
  std::string scheme;  ///< lower-cased
  std::string user;
  std::optional<std::string> password;
  std::string host;  ///< without brackets for IPv6 literals
  std::optional<int> port;
  std::string path;  ///< from the first '/' after the authority, may be empty
  std::string query;
};

/// Splits a URL; nullopt when it is not of that shape (no scheme, a port
/// that is not a number in 1..65535, an unbalanced IPv6 bracket, ...).
std::optional<UrlParts> parse_url(const std::string& url);

/// Percent-decodes a URL part; false when it holds a bad escape.
bool percent_decode(std::string_view in, std::string& out);

}  // namespace chrysopedia::common

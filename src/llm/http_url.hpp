#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chrysopedia::llm {

/// The parts of an http:// URL a request needs.
struct HttpUrl {
  std::string host;       ///< without brackets
  std::string port;       ///< "80" when none is given
  std::string target;     ///< path and query, "/" when none
  std::string authority;  ///< the Host header
};

/// nullopt unless `url` is plain http:// without credentials.
std::optional<HttpUrl> parse_http_url(std::string_view url);

}  // namespace chrysopedia::llm

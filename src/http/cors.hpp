#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chrysopedia/http/request.hpp"

namespace chrysopedia::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// Cross-origin access for a browser page served from another origin.
/// `allowed` holds origins (`https://host[:port]`) or `*`; empty turns CORS
/// off. A request from an origin not allowed gets no CORS headers, so the
/// browser keeps the response from the page.
class Cors {
 public:
  explicit Cors(std::vector<std::string> allowed) : allowed_(std::move(allowed)) {}

  bool enabled() const { return !allowed_.empty(); }

  /// The headers for an actual response (stream and errors alike).
  HeaderList response_headers(const Request& request) const;

  /// True for an `OPTIONS` carrying `Origin` and
  /// `Access-Control-Request-Method`, when CORS is on.
  bool is_preflight(const Request& request) const;

  /// The headers answering a preflight for a path accepting `methods`.
  HeaderList preflight_headers(const Request& request,
                               const std::vector<std::string>& methods) const;

 private:
  bool allows(std::string_view origin) const;
  std::vector<std::string> allowed_;
};

}  // namespace chrysopedia::http

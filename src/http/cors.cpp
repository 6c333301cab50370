#include "http/cors.hpp"

#include <algorithm>
#include <cctype>

#include "common/ascii.hpp"

namespace chrysopedia::http {

namespace {

constexpr std::string_view kBaseHeaders[] = {"Content-Type", "Authorization", "X-Request-Id",
                                             "Last-Event-ID"};
constexpr std::size_t kMaxExtraHeaders = 16;
constexpr std::size_t kMaxHeaderName = 64;

bool is_token(std::string_view s) {
  if (s.empty() || s.size() > kMaxHeaderName) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

}  // namespace

bool Cors::allows(std::string_view origin) const {
  // "null" (sandboxed frames, file://) is no origin anyone can vouch for.
  if (origin.empty() || origin == "null") return false;
  return std::any_of(allowed_.begin(), allowed_.end(),
                     [&](const std::string& a) { return a == "*" || a == origin; });
}

HeaderList Cors::response_headers(const Request& request) const {
  if (!enabled()) return {};
  const auto origin = request.header("origin");
  // Whether the answer carries CORS headers depends on the Origin sent, so
  // every answer says so: a cache must not hand one origin's answer (with
  // or without them) to another.
  if (!origin || !allows(*origin)) return {{"Vary", "Origin"}};
  // The origin is echoed rather than `*`, so the answer depends on it:
  // caches must key on it.
  return {{"Access-Control-Allow-Origin", std::string(*origin)},
          {"Vary", "Origin"},
          {"Access-Control-Expose-Headers", "X-Request-Id, Chrysopedia-Stream-Id"}};
}

bool Cors::is_preflight(const Request& request) const {
  return enabled() && request.method == "OPTIONS" && request.header("origin") &&
         request.header("access-control-request-method");
}

HeaderList Cors::preflight_headers(const Request& request,
                                   const std::vector<std::string>& methods) const {
  const auto origin = request.header("origin");
  if (!origin || !allows(*origin)) return {};
  std::string allow_methods;
  for (const auto& m : methods) allow_methods += (allow_methods.empty() ? "" : ", ") + m;

  std::vector<std::string> headers(std::begin(kBaseHeaders), std::end(kBaseHeaders));
  // What the page asked for is granted when it looks like a header name;
  // anything odd is left out and the browser refuses the request itself.
  std::string_view asked = request.header("access-control-request-headers").value_or("");
  while (!asked.empty() && headers.size() < std::size(kBaseHeaders) + kMaxExtraHeaders) {
    const auto comma = asked.find(',');
    const auto name = common::trim_ows(asked.substr(0, comma));
    asked = comma == std::string_view::npos ? std::string_view() : asked.substr(comma + 1);
    if (!is_token(name)) continue;
    if (std::none_of(headers.begin(), headers.end(),
                     [&](const std::string& h) { return common::ascii_iequals(h, name); })) {
      headers.emplace_back(name);
    }
  }
  std::string allow_headers;
  for (const auto& h : headers) allow_headers += (allow_headers.empty() ? "" : ", ") + h;

  return {{"Access-Control-Allow-Origin", std::string(*origin)},
          {"Vary", "Origin"},
          {"Access-Control-Allow-Methods", allow_methods},
          {"Access-Control-Allow-Headers", allow_headers},
          {"Access-Control-Max-Age", "600"}};
}

}  // namespace chrysopedia::http

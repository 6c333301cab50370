#include "common/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

namespace chrysopedia::common {

namespace {

std::optional<int> port_number(std::string_view text) {
  int port = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, port);
  if (text.empty() || ec != std::errc{} || ptr != end || port < 1 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

}  // namespace

std::optional<UrlParts> parse_url(const std::string& url) {
  const auto parsed = boost::urls::parse_uri(url);
  // An authority (`scheme://`) is what every URL we take has; after it,
  // a path is empty or absolute (Boost 1.81 also lets `http://h:12ab` and
  // `http://[::1]x` through, with "ab" and "x" as the path).
  if (!parsed || !parsed->has_authority()) return std::nullopt;
  const boost::urls::url_view& u = *parsed;
  const auto path = u.encoded_path();
  if (!path.empty() && path.front() != '/') return std::nullopt;

  UrlParts out;
  out.scheme = u.scheme();
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  out.user = u.encoded_user();
  if (u.has_password()) out.password = std::string(u.encoded_password());
  out.host = u.encoded_host_address();
  if (u.has_port()) {
    out.port = port_number(u.port());
    if (!out.port) return std::nullopt;
  }
  out.path = path;
  out.query = u.encoded_query();
  return out;
}

bool percent_decode(std::string_view in, std::string& out) {
  const auto valid = boost::urls::make_pct_string_view(in);
  if (!valid) return false;
  out = valid->decode();
  return true;
}

}  // namespace chrysopedia::common

#include "common/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/hex.hpp"

namespace chrysopedia::common {

namespace {

bool valid_scheme(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

bool has_space_or_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

}  // namespace

std::optional<UrlParts> parse_url(const std::string& url) {
  if (has_space_or_control(url)) return std::nullopt;
  const auto sep = url.find("://");
  if (sep == std::string::npos) return std::nullopt;

  UrlParts out;
  out.scheme = url.substr(0, sep);
  if (!valid_scheme(out.scheme)) return std::nullopt;
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  const auto rest_begin = sep + 3;
  const auto authority_end = url.find_first_of("/?#", rest_begin);
  std::string authority =
      url.substr(rest_begin, authority_end == std::string::npos ? std::string::npos
                                                                : authority_end - rest_begin);
  if (authority_end != std::string::npos) {
    const auto rest = url.substr(authority_end);
    const auto q = rest.find('?');
    out.path = rest.substr(0, q);
    if (q != std::string::npos) out.query = rest.substr(q + 1);
  }

  // The userinfo ends at the last '@': passwords may themselves contain '@'.
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (const auto colon = userinfo.find(':'); colon != std::string::npos) {
      out.user = userinfo.substr(0, colon);
      out.password = userinfo.substr(colon + 1);
    } else {
      out.user = userinfo;
    }
  }

  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    out.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else {
    const auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
    }
    if (out.host.find_first_of("[]") != std::string::npos) return std::nullopt;
  }

  if (!port_text.empty()) {
    int port = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (ec != std::errc{} || ptr != end || port < 1 || port > 65535) return std::nullopt;
    out.port = port;
  }
  return out;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_digit(in[i + 1]);
    const int lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

}  // namespace chrysopedia::common

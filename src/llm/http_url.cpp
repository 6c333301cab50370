#include "llm/http_url.hpp"

#include "common/url.hpp"

namespace chrysopedia::llm {

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  const auto parts = common::parse_url(std::string(url));
  if (!parts || parts->scheme != "http" || parts->host.empty() || !parts->user.empty() ||
      parts->password) {
    return std::nullopt;  // credentials in the URL stay with curl
  }
  HttpUrl out;
  out.host = parts->host;
  out.port = std::to_string(parts->port.value_or(80));
  std::string target = parts->path.empty() ? "/" : parts->path;
  if (!parts->query.empty()) target.append("?").append(parts->query);
  out.target = target.substr(0, target.find('#'));
  const bool v6 = out.host.find(':') != std::string::npos;
  out.authority = v6 ? "[" + out.host + "]" : out.host;
  if (parts->port) out.authority.append(":").append(out.port);
  return out;
}

}  // namespace chrysopedia::llm

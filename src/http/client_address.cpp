#include "http/client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "common/ascii.hpp"

namespace chrysopedia::http {

namespace {

constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_trusted(const IpAddress& a, const std::vector<IpAddress>& trusted) {
  return std::find(trusted.begin(), trusted.end(), a) != trusted.end();
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  text = common::trim_ows(text);
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    text = text.substr(0, text.find(':'));  // IPv4 with a port
  }
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress out;
  if (inet_pton(AF_INET, buf, out.bytes.data()) == 1) return out;
  if (inet_pton(AF_INET6, buf, out.bytes.data()) != 1) return std::nullopt;
  if (std::memcmp(out.bytes.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
    std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
    std::fill(out.bytes.begin() + 4, out.bytes.end(), 0);
    return out;
  }
  out.v6 = true;
  return out;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> client_address(const Request& request,
                                        const std::vector<IpAddress>& trusted_proxies) {
  auto address = IpAddress::parse(request.peer_address);
  if (!address || !is_trusted(*address, trusted_proxies)) return address;
  // Several X-Forwarded-For headers read as one list, in order.
  std::vector<std::string_view> hops;
  for (const auto& [name, value] : request.headers) {
    if (name != "x-forwarded-for") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      hops.push_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    // A trusted proxy that wrote garbage: the last address we can vouch for.
    const auto parsed = IpAddress::parse(*hop);
    if (!parsed) break;
    address = parsed;
    if (!is_trusted(*address, trusted_proxies)) break;
  }
  return address;
}

std::string rate_limit_key(const IpAddress& address) {
  if (!address.v6) return address.to_string();
  IpAddress prefix = address;
  std::fill(prefix.bytes.begin() + 8, prefix.bytes.end(), 0);
  return prefix.to_string() + "/64";
}

}  // namespace chrysopedia::http

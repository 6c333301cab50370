#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chrysopedia/http/request.hpp"

namespace chrysopedia::http {

/// An IPv4 or IPv6 address in binary; an IPv4-mapped IPv6 address
/// (`::ffff:1.2.3.4`, what a dual-stack socket reports) is its IPv4 self.
struct IpAddress {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};  ///< IPv4 in the first four

  /// Parses `1.2.3.4`, `::1`, `[::1]`, and either with a `:port` after it
  /// (as some proxies write X-Forwarded-For); nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

/// Who sent a request: the socket's peer, or, when the peer is one of
/// `trusted_proxies`, the nearest address in `X-Forwarded-For` that is not
/// itself a trusted proxy (reading from the right, as each proxy appends
/// the address it saw; entries left of an untrusted one are the client's
/// own say and ignored). Nullopt only when the peer address is unknown.
std::optional<IpAddress> client_address(const Request& request,
                                        const std::vector<IpAddress>& trusted_proxies);

/// The rate-limit identity of an address: IPv4 whole, IPv6 by its /64
/// (one host commonly holds a whole /64, so per-address buckets would let
/// it mint fresh ones at will).
std::string rate_limit_key(const IpAddress& address);

}  // namespace chrysopedia::http

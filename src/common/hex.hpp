#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chrysopedia::common {

/// The four hex digits at s[at] (a JSON \u escape's), or -1 when there are
/// not four there.
/// `n` bytes as lower-case hex, two digits each.
inline std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0x0F]);
  }
  return out;
}

/// A hex digit's value, or -1.
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline int hex4_at(std::string_view s, std::size_t at) {
  if (at > s.size() || s.size() - at < 4) return -1;
  int v = 0;
  for (std::size_t k = at; k < at + 4; ++k) {
    const char c = s[k];
    const int d = hex_digit(c);
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

}  // namespace chrysopedia::common

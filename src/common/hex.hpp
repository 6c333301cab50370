#pragma once

#include <cstddef>
#include <string_view>

namespace chrysopedia::common {

/// The four hex digits at s[at] (a JSON \u escape's), or -1 when there are
/// not four there.
inline int hex4_at(std::string_view s, std::size_t at) {
  if (at > s.size() || s.size() - at < 4) return -1;
  int v = 0;
  for (std::size_t k = at; k < at + 4; ++k) {
    const char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      return -1;
  }
  return v;
}

}  // namespace chrysopedia::common

#pragma once

#include <string>
#include <string_view>

#include "common/hex.hpp"

namespace chrysopedia::test {

/// JSON text with every lone UTF-16 surrogate escape (\uD800–\uDFFF not in
/// a high-then-low pair) replaced by \uFFFD: what the chunk scanner decodes
/// them to. nlohmann refuses them, so as an oracle it is given this.
inline std::string lone_surrogates_replaced(std::string_view s) {
  auto hex4 = [&](std::size_t at) { return common::hex4_at(s, at); };
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i++]);
      continue;
    }
    if (s[i + 1] != 'u') {
      out.append(s.substr(i, 2));  // an escape: its second byte is not a new one
      i += 2;
      continue;
    }
    const int cp = hex4(i + 2);
    if (cp < 0xD800 || cp > 0xDFFF) {
      out.append(s.substr(i, 2));
      i += 2;
      continue;
    }
    if (cp <= 0xDBFF && i + 12 <= s.size() && s[i + 6] == '\\' && s[i + 7] == 'u') {
      const int low = hex4(i + 8);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        out.append(s.substr(i, 12));
        i += 12;
        continue;
      }
    }
    out.append("\\uFFFD");
    i += 6;
  }
  return out;
}

}  // namespace chrysopedia::test

#include "common/utf8.hpp"

#include <cctype>

namespace chrysopedia::common {

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) i = append_sequence_or_replacement(out, text, i);
  return out;
}

std::string trim_spaces(std::string_view s) {
  auto is_space = [](std::string_view t, std::size_t i) -> std::size_t {
    if (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) return 1;
    if (t.substr(i, 2) == "\xC2\xA0") return 2;
    if (t.substr(i, 3) == "\xE3\x80\x80") return 3;
    return 0;
  };
  std::size_t start = 0;
  while (std::size_t n = is_space(s, start)) start += n;
  std::size_t end = s.size();
  for (bool moved = true; moved && end > start;) {
    moved = false;
    for (std::size_t n : {1u, 2u, 3u}) {
      if (end >= start + n && is_space(s, end - n) == n) {
        end -= n;
        moved = true;
        break;
      }
    }
  }
  return std::string(s.substr(start, end - start));
}

}  // namespace chrysopedia::common

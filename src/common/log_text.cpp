#include "common/log_text.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/utf8.hpp"

namespace chrysopedia::common {

std::string log_quote(std::string_view text, std::size_t max_bytes) {
  // The cut first, on a character boundary (a byte that is not UTF-8
  // counts as one character).
  std::size_t end = 0;
  while (end < text.size()) {
    const std::size_t n = std::max<std::size_t>(utf8_sequence(text, end), 1);
    if (end + n > max_bytes) break;
    end += n;
  }
  // fmt's debug format quotes and escapes: `"` and `\`, \n \r \t, every
  // other character Unicode does not call printable (C0, DEL, C1, format
  // characters) and every byte that is not UTF-8, as \xNN or \uNNNN.
  std::string out = fmt::format("{:?}", text.substr(0, end));
  if (end < text.size()) out.insert(out.size() - 1, "…");
  return out;
}

}  // namespace chrysopedia::common

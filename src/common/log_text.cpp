#include "common/log_text.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/utf8.hpp"

namespace chrysopedia::common {

std::string log_quote(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = utf8_sequence(text, i);
    if (i + std::max<std::size_t>(n, 1) > max_bytes) {
      out += "…";
      break;
    }
    if (n == 0) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
      n = 1;
    } else if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      // U+0080-U+009F: C1 controls (CSI is U+009B).
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  out.push_back('"');
  return out;
}

}  // namespace chrysopedia::common

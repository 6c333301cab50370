#include "common/utf8.hpp"

namespace chrysopedia::common {

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) i = append_sequence_or_replacement(out, text, i);
  return out;
}

}  // namespace chrysopedia::common

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chrysopedia::common {

/// Client text made safe for a one-line `key="value"` log field: fmt's
/// debug format (`{:?}`): quoted; `"` and `\` escaped; line breaks, tabs
/// and every character that is not printable (C0, DEL and C1, which
/// terminals act on: ESC sequences, BEL, window titles; format characters)
/// written as `\n`, `\xNN` or `\uNNNN`; bytes that are not UTF-8 as `\xNN`.
/// Longer than `max_bytes` of input, it is cut on a character boundary and
/// ends with `…`.
std::string log_quote(std::string_view text, std::size_t max_bytes = 200);

/// The same, or `null` when there is none.
inline std::string log_quote_or_null(const std::optional<std::string>& text) {
  return text ? log_quote(std::string_view(*text)) : std::string("null");
}

}  // namespace chrysopedia::common

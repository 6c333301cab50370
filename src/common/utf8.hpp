#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chrysopedia::common {

/// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 when
/// the bytes there are not one: a stray continuation byte, a truncated or
/// overlong sequence, a surrogate, or a code point past U+10FFFF.
inline std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n;
  unsigned min;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  unsigned cp = b0 & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

/// Appends the UTF-8 sequence at text[i] to `out`, or U+FFFD for one byte
/// that does not start one; returns where the next sequence starts.
inline std::size_t append_sequence_or_replacement(std::string& out, std::string_view text,
                                                  std::size_t i) {
  const std::size_t n = utf8_sequence(text, i);
  if (n == 0) {
    out.append(kReplacementCharacter);
    return i + 1;
  }
  out.append(text.substr(i, n));
  return i + n;
}

/// `s` without the white space around it: ASCII's, and the no-break and
/// ideographic spaces (U+00A0, U+3000) people paste with their text.
std::string trim_spaces(std::string_view s);

/// Replaces every byte sequence that is not valid UTF-8 with U+FFFD, so
/// text from a peer can be put in JSON and sent on without failing.
std::string sanitize_utf8(std::string_view text);

}  // namespace chrysopedia::common

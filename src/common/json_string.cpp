#include "common/json_string.hpp"

#include <cstdint>
#include <cstring>

#include "common/utf8.hpp"

namespace chrysopedia::common {

namespace {

// A byte a JSON string cannot take as it is (or, past ASCII, not without a
// UTF-8 check).
bool needs_care(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

// Whether any of the 8 bytes in `w` is a control character, a quote, a
// backslash or not ASCII: the bytes a JSON string cannot take as they are.
// (Bit tricks from "Bit Twiddling Hacks": exact as a yes or no, which is
// all that is asked.)
bool word_needs_care(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return ((w & kHigh) | below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) !=
         0;
}

// The end of the run from `i` of bytes that go into a JSON string as they
// are. Prompts and sources are kilobytes of plain text per chat: eight
// bytes a step, not one.
std::size_t plain_run_end(std::string_view text, std::size_t i) {
  for (std::uint64_t w; i + 8 <= text.size(); i += 8) {
    std::memcpy(&w, text.data() + i, 8);
    if (word_needs_care(w)) break;
  }
  while (i < text.size() && !needs_care(static_cast<unsigned char>(text[i]))) ++i;
  return i;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + text.size() + 2);
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t run = i;
    i = plain_run_end(text, i);
    out.append(text.data() + run, i - run);
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      i = append_sequence_or_replacement(out, text, i);
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.push_back('"');
}

}  // namespace chrysopedia::common

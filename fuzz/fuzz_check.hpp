#pragma once

// Helpers shared by the fuzz targets: a check that libFuzzer reports as a
// crash (with the failing property named), and oracles written
// independently of the code under test so that a bug there cannot hide
// itself by agreeing with its own helper.

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) ::chrysopedia::fuzz::fail(#cond, __FILE__, __LINE__); \
  } while (0)

namespace chrysopedia::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
  std::abort();
}

/// Well-formed UTF-8 per the Unicode standard's table 3-7: no overlongs,
/// no surrogates, nothing above U+10FFFF, no truncated sequences.
inline bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto in = [](unsigned char b, unsigned char lo, unsigned char hi) {
    return b >= lo && b <= hi;
  };
  while (i < s.size()) {
    const unsigned char b = at(i);
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (b <= 0x7F) {
      n = 1;
    } else if (in(b, 0xC2, 0xDF)) {
      n = 2;
    } else if (b == 0xE0) {
      n = 3, lo = 0xA0;
    } else if (in(b, 0xE1, 0xEC) || in(b, 0xEE, 0xEF)) {
      n = 3;
    } else if (b == 0xED) {
      n = 3, hi = 0x9F;
    } else if (b == 0xF0) {
      n = 4, lo = 0x90;
    } else if (in(b, 0xF1, 0xF3)) {
      n = 4;
    } else if (b == 0xF4) {
      n = 4, hi = 0x8F;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    if (n > 1 && !in(at(i + 1), lo, hi)) return false;
    for (std::size_t k = 2; k < n; ++k) {
      if (!in(at(i + k), 0x80, 0xBF)) return false;
    }
    i += n;
  }
  return true;
}

/// Code points in well-formed UTF-8.
inline std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// A tiny deterministic generator, so that the input alone decides a run.
struct Rng {
  unsigned state;
  unsigned next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
};

}  // namespace chrysopedia::fuzz

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::search {

/// Postgres's order of lexemes (tsCompareString): bytes, then length.
int compare_lexemes(std::string_view a, std::string_view b);

/// A document's tsvector as Postgres holds it, for ranking in the process:
/// its lexemes in Postgres's order, each with its positions as Postgres
/// packs them (WordEntryPos: the weight, 3 for A down to 0 for D, in the
/// top two bits, the position in the low fourteen), ascending.
struct TsVector {
  struct Entry {
    std::string lexeme;
    std::vector<std::uint16_t> positions;  // empty: a lexeme stored without them
  };
  std::vector<Entry> entries;

  /// The entry holding `lexeme`, or nullptr.
  const Entry* find(std::string_view lexeme) const;
  /// The first entry whose lexeme starts with `prefix` (the rest follow it).
  std::size_t lower_bound(std::string_view prefix) const;
  /// What ts_rank's length normalisation counts: every position, and one
  /// for a lexeme stored without positions.
  int length() const;
};

constexpr std::uint16_t position_of(std::uint16_t packed) {
  return packed & 0x3fff;
}
constexpr int weight_of(std::uint16_t packed) {
  return packed >> 14;
}

/// A tsvector from Postgres's text form ('kick':1A,5 'drum':2), or nullopt
/// when the text is not one.
std::optional<TsVector> parse_tsvector(std::string_view text);

}  // namespace chrysopedia::search

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::search {

/// The lexemes Postgres's to_tsvector('english', text) gives `text`
/// (distinct, sorted), computed in the process with the same Snowball
/// stemmer (libstemmer, the algorithm Postgres ships) and stop words, so a
/// search need not ask the database what a word stems to. Only for text
/// whose parse there is beyond doubt: ASCII letters and spaces, words of
/// at most 64 letters. Anything else (digits, hyphens, apostrophes,
/// accents) is nullopt: ask Postgres. Thread-safe.
std::optional<std::vector<std::string>> english_lexemes(std::string_view text);

}  // namespace chrysopedia::search

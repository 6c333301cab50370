#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "search/candidates.hpp"

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

/// Every lexeme's champion list of one generation of lexeme_lists, read
/// whole when it fits in memory. With it and the in-process stemmer
/// (stemmer.hpp), the words of a question need no statement to find their
/// lists, whether or not a question used them before.
struct Lexicon {
  long long generation = -1;
  std::unordered_map<std::string, std::shared_ptr<const ChampionList>> lists;
  std::size_t bytes = 0;
};

struct LexiconRead {
  std::shared_ptr<const Lexicon> lexicon;  // null: not kept (see `why_not`)
  long long generation = -1;               // of lexeme_lists when read
  std::size_t bytes = 0;                   // what it takes, or would have
  std::string why_not;  // "too_big", "stemmer_disagrees" (a word, what each said)
};

/// Reads lexeme_lists whole, in one snapshot with its generation, if it
/// takes no more than `max_bytes`; first checks that english_lexemes()
/// stems the thesaurus's phrases and the stop words as this database's
/// to_tsvector('english', ...) does (another Postgres version may ship
/// another Snowball), and keeps nothing if not.
LexiconRead read_lexicon(pqxx::connection_base& conn, std::size_t max_bytes);

}  // namespace chrysopedia::search

#pragma once

#include <string>

namespace pqxx {
class transaction_base;
}

namespace chrysopedia::search {

/// How many documents each lexeme's champion list keeps.
inline constexpr int kChampionsPerLexeme = 100;

/// Rebuilds lexeme_lists, one row per lexeme, from lexeme_champions.
void rebuild_lexeme_lists(pqxx::transaction_base& tx);

/// Rebuilds every champion list from search_documents (bulk imports):
/// both forms, with the planner's statistics.
void rebuild_champions(pqxx::transaction_base& tx);

/// lexeme_champions alone (migration 2, before lexeme_lists existed).
void rebuild_champion_rows(pqxx::transaction_base& tx);

/// Adds the documents of the given pages (a JSON array of slugs) to the
/// lists of their lexemes, then trims those lists back to size.
void add_champions(pqxx::transaction_base& tx, const std::string& page_slugs_json);

/// Removes the documents of the given pages from every list (before those
/// documents are deleted).
void remove_champions(pqxx::transaction_base& tx, const std::string& page_slugs_json);

}  // namespace chrysopedia::search

#pragma once

#include <string>

namespace pqxx {
class transaction_base;
}

namespace chrysopedia::search {

/// How many documents each lexeme's champion list keeps.
inline constexpr int kChampionsPerLexeme = 100;

/// Rebuilds every champion list from search_documents (bulk imports,
/// migrations) and refreshes the planner's statistics.
void rebuild_champions(pqxx::transaction_base& tx);

/// Adds the documents of the given pages (a JSON array of slugs) to the
/// lists of their lexemes, then trims those lists back to size.
void add_champions(pqxx::transaction_base& tx, const std::string& page_slugs_json);

/// Removes the documents of the given pages from every list (before those
/// documents are deleted).
void remove_champions(pqxx::transaction_base& tx, const std::string& page_slugs_json);

}  // namespace chrysopedia::search

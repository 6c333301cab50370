#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chrysopedia/search/search_client.hpp"
#include "search/document_store.hpp"
#include "search/ts_query.hpp"

namespace chrysopedia::search {

/// What the full-text statement is given (cascade.cpp's full_text_sql).
struct FullTextAsk {
  std::string web;                              // the question, for websearch_to_tsquery
  std::vector<std::vector<std::string>> terms;  // each term's ways of being written
  std::vector<std::string> excluded;            // words and phrases excluded
  long long creator_id = 0;                     // 0: any
  std::string title;                            // the question as a title
  int limit = 10;
  std::vector<long long> candidates;  // from the champion lists
};

struct MemoryRanking {
  std::vector<SearchItem> items;
  std::vector<int> matched;
};

/// websearch_to_tsquery('english', text), built in the process for a
/// question of plain words (ASCII letters and digits, an apostrophe between
/// letters, closing ?,!;:.); nullopt for any other.
std::optional<TsQuery> websearch_query(const std::string& text);

/// phraseto_tsquery('english', text) likewise, or from `known` (phrases
/// Postgres read for the process, DocumentStore::phrases) when there.
std::optional<TsQuery> phrase_query(
    const std::string& text, const std::unordered_map<std::string, TsQuery>* known = nullptr);

/// The full-text statement's ranking computed from the documents in
/// memory, item for item what Postgres returns for the same store's
/// generation; nullopt when the question holds what only Postgres's parser
/// reads for sure (anything but ASCII letters, spaces and a closing
/// ?.,!; websearch syntax: quotes, "or", a leading minus), so Postgres
/// ranks it. The stemmer (english_lexemes) must agree with the database's,
/// as the lexicon's reading checks.
std::optional<MemoryRanking> rank_in_memory(const DocumentStore& store, const FullTextAsk& ask);

}  // namespace chrysopedia::search

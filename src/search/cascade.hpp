#pragma once

#include <functional>
#include <vector>

#include "chrysopedia/search/search_client.hpp"
#include "search/fusion.hpp"

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

class ListCache;

/// Settings a connection needs before it can search (statement timeout,
/// trigram threshold, quiet notices).
void configure_search_session(pqxx::connection_base& conn, int statement_timeout_ms);

/// Runs one search and drops its result, so that a new connection's first
/// real search does not pay for planning its statements and filling the
/// backend's catalog caches (a few ms at p99 through the service). Never
/// throws: a database without the schema yet, or a connection that broke,
/// is for the searches to meet.
void warm_search_session(pqxx::connection_base& conn);

/// Both of the above, for a search pool's new connections.
std::function<void(pqxx::connection_base&)> search_session_setup(int statement_timeout_ms);

/// The retrieval cascade of SPEC §2 on one connection, synchronously: for
/// the pool's threads and the `search` command. Throws pqxx exceptions.
/// `semantic_doc_ids`: the question's nearest documents by meaning, most
/// similar first, fused with the cascade's ranking (fusion.hpp); where
/// nothing else matched they serve as the `semantic` tier;
/// `semantic_weight` is how much their ranks count (fuse_rankings). `cache`:
/// the champion lists kept in memory (list_cache.hpp), or none.
SearchResult run_cascade(pqxx::connection_base& conn, const SearchRequest& request,
                         const std::vector<long long>& semantic_doc_ids = {},
                         ListCache* cache = nullptr,
                         double semantic_weight = kDefaultSemanticWeight);

// run_cascade in its three parts. A follow-up searched in its
// conversation's context ranks its own words alone as well, a second
// statement that does not need the first's result (own_words_searched_apart):
// a pool runs the two on two connections at once, and a follow-up at one
// user waits for one statement, not two in turn.

/// A full-text ranking, with how many of the question's terms each item
/// holds.
struct Ranking {
  std::vector<SearchItem> items;
  std::vector<int> matched;
};

/// What the cascade found for the question in its context, before the
/// follow-up's own words and the semantic neighbours are fused in.
struct ContextualFound {
  SearchResult result;
  long long creator_id = 0;  // the creator searched within (0: every creator)
  bool semantic_asked = false;
  std::vector<SearchItem> semantic;  // the neighbours' rows, as the cascade filters them
};

/// Whether a request's own-words ranking can run beside its contextual
/// cascade (a follow-up with context, no creator), rather than after it.
bool own_words_searched_apart(const SearchRequest& request);
ContextualFound contextual_cascade(pqxx::connection_base& conn, const SearchRequest& request,
                                   const std::vector<long long>& semantic_doc_ids,
                                   ListCache* cache);
/// The follow-up's own words alone, within `creator_id`'s pages (0: all).
Ranking own_words_ranking(pqxx::connection_base& conn, const SearchRequest& request,
                          long long creator_id, ListCache* cache);
/// The result: `own` (null: not searched) fused in when the contextual
/// search found anything, then the semantic neighbours.
SearchResult finish_cascade(ContextualFound found, const SearchRequest& request, const Ranking* own,
                            double semantic_weight);

}  // namespace chrysopedia::search

#pragma once

#include <functional>

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

}  // namespace chrysopedia::search

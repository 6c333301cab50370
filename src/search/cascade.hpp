#pragma once

#include "chrysopedia/search/search_client.hpp"

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

/// Settings a connection needs before it can search (statement timeout,
/// trigram threshold, quiet notices).
void configure_search_session(pqxx::connection_base& conn, int statement_timeout_ms);

/// The retrieval cascade of SPEC §2 on one connection, synchronously: for
/// the pool's threads and the `search` command. Throws pqxx exceptions.
SearchResult run_cascade(pqxx::connection_base& conn, const SearchRequest& request);

}  // namespace chrysopedia::search

#pragma once

#include "search/ts_query.hpp"
#include "search/ts_vector.hpp"

namespace chrysopedia::search {

/// `tsv @@ query` as Postgres computes it (TS_execute: NOT evaluated, a
/// phrase matched on positions; a phrase over a lexeme stored without
/// positions does not match). An empty query matches nothing.
bool ts_matches(const TsVector& tsv, const TsQuery& query);

}  // namespace chrysopedia::search

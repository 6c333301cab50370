#pragma once

#include <array>

#include "search/ts_query.hpp"
#include "search/ts_vector.hpp"

namespace chrysopedia::search {

/// ts_rank(weights, tsv, query, normalization) as Postgres computes it,
/// to the bit: the same formulas in the same float arithmetic, in the same
/// order. `weights` for D, C, B, A; `normalization` Postgres's flags.
float ts_rank(const std::array<float, 4>& weights, const TsVector& tsv, const TsQuery& query,
              int normalization);

}  // namespace chrysopedia::search

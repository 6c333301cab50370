#pragma once

#include <cstddef>
#include <vector>

#include "chrysopedia/search/search_client.hpp"

namespace chrysopedia::search {

/// How much a semantic rank counts against the same full-text rank
/// (EMBEDDINGS_FUSION_WEIGHT). At 0.5 the full-text ranking leads: a
/// semantic first alone ranks with a full-text third, and a page both rank
/// high passes a full-text first. Measured with a real model in
/// docs/PERFORMANCE.md ("Fusion that lets full text lead").
inline constexpr double kDefaultSemanticWeight = 0.5;

/// Weighted reciprocal rank fusion of a leading ranking (full text) and a
/// second one (what the question means; or a follow-up's own words): an
/// item's score is 1 / (1 + rank) from the leading list plus
/// `second_weight` / (1 + rank) from the second (rank 1 the first).
/// Cormack et al.'s k = 60 flattens a short list's ranks so far that any
/// item in both lists, at any rank, passes a leading first the other list
/// missed; with k = 1 a first place is worth twice a third, and a weak
/// model's noise cannot carry a page past a clear full-text answer. The
/// same page or section in both lists is one item. Ties keep the leading
/// order, then the second, so the result is deterministic. With
/// `first_is_exact_title`, the leading list's first item (the page titled
/// as the question) stays first.
std::vector<SearchItem> fuse_rankings(const std::vector<SearchItem>& leading,
                                      const std::vector<SearchItem>& second, std::size_t limit,
                                      bool first_is_exact_title,
                                      double second_weight = kDefaultSemanticWeight);

}  // namespace chrysopedia::search

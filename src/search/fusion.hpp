#pragma once

#include <cstddef>
#include <vector>

#include "chrysopedia/search/search_client.hpp"

namespace chrysopedia::search {

/// Reciprocal rank fusion (Cormack et al., k = 60) of the full-text
/// ranking and the semantic one: an item's score is the sum over the lists
/// it is in of 1 / (60 + rank). The same page or section in both lists is
/// one item. Ties keep the full-text order, then the semantic order, so
/// the result is deterministic. With `first_is_exact_title`, the full-text
/// list's first item (the page titled as the question) stays first.
std::vector<SearchItem> fuse_rankings(const std::vector<SearchItem>& full_text,
                                      const std::vector<SearchItem>& semantic, std::size_t limit,
                                      bool first_is_exact_title);

}  // namespace chrysopedia::search

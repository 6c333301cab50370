#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::search {

/// A user's query split the way web search engines read it: quoted phrases
/// stay together, `-word` / `-"a phrase"` exclude, `or` between terms is
/// an alternative (the strict query is left to websearch_to_tsquery; this
/// split feeds the partial-match tier, which needs the terms one by one).
struct ParsedQuery {
  std::vector<std::string> terms;     ///< words and phrases to find
  std::vector<std::string> excluded;  ///< words and phrases to avoid
  bool uses_syntax = false;           ///< quotes, exclusions or `or` were used
};

ParsedQuery parse_query(std::string_view query);

}  // namespace chrysopedia::search

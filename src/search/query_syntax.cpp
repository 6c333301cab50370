#include "search/query_syntax.hpp"

#include <cctype>

namespace chrysopedia::search {

namespace {

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool iequals_or(std::string_view w) {
  return w.size() == 2 && (w[0] == 'o' || w[0] == 'O') && (w[1] == 'r' || w[1] == 'R');
}

}  // namespace

ParsedQuery parse_query(std::string_view q) {
  ParsedQuery out;
  std::size_t i = 0;
  while (i < q.size()) {
    while (i < q.size() && is_space(q[i])) ++i;
    if (i >= q.size()) break;
    bool negate = false;
    // `-word` and `-"a phrase"` exclude; `-14` is a number ("-14 LUFS",
    // "-6 dB of headroom"), as is anything else that is not a word.
    if (q[i] == '-' && i + 1 < q.size() &&
        (std::isalpha(static_cast<unsigned char>(q[i + 1])) || q[i + 1] == '"' ||
         (static_cast<unsigned char>(q[i + 1]) & 0x80))) {
      negate = true;
      ++i;
    }
    std::string token;
    bool quoted = false;
    if (q[i] == '"') {
      quoted = true;
      const auto end = q.find('"', i + 1);
      token.assign(q.substr(i + 1, end == std::string_view::npos ? q.npos : end - i - 1));
      i = end == std::string_view::npos ? q.size() : end + 1;
    } else {
      const auto start = i;
      while (i < q.size() && !is_space(q[i]) && q[i] != '"') ++i;
      token.assign(q.substr(start, i - start));
    }
    if (token.empty()) continue;
    if (!quoted && !negate && iequals_or(token)) {
      out.uses_syntax = true;
      continue;
    }
    if (quoted || negate) out.uses_syntax = true;
    (negate ? out.excluded : out.terms).push_back(std::move(token));
  }
  return out;
}

}  // namespace chrysopedia::search

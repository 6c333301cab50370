#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::search {

/// One lexeme's champion list as lexeme_lists keeps it: its best documents,
/// best first, each with the weight the lexeme has there.
struct ChampionList {
  std::string lexeme;
  std::vector<long long> doc_ids;
  std::vector<float> scores;
};

/// One term of a question as the candidates see it: each way of writing
/// it (the word as typed, what the thesaurus adds), as the lists of that
/// way's lexemes. A lexeme the corpus lacks is an empty list: a way with
/// one (or with no lexeme at all) can match nothing.
struct TermLists {
  std::vector<std::vector<const ChampionList*>> ways;
};

/// Which documents go on to the exact ordering, from the champion lists
/// of the question's terms (ties go to the first term). `wanted` results
/// are asked for; `keep_all` (a query that excludes words) keeps every
/// champion, so that what the exclusion removes cannot leave the answer
/// short. Ascending ids. Counted per term, as the exact ordering counts: a
/// document is on a term when it is on the list of one of the term's
/// one-word ways, or on every list of a phrase's (only those can hold the
/// phrase). So a phrase of everyday words the thesaurus adds ("low pass"
/// for "lowpass") cannot crowd out the word as typed.
std::vector<long long> choose_term_candidates(const std::vector<TermLists>& terms, int wanted,
                                              bool keep_all);

/// A Postgres array of numbers in its text form ("{1,2,3}") as numbers.
/// Throws std::invalid_argument on anything else.
std::vector<long long> parse_id_array(std::string_view text);
std::vector<float> parse_real_array(std::string_view text);

}  // namespace chrysopedia::search

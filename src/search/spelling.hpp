#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "search/candidates.hpp"

namespace chrysopedia::search {

/// What a word no document holds may have been meant as: the lexemes of
/// the words one slip away. `gentle`: two letters swapped ("masetring"),
/// a letter doubled or undoubled ("reverbb", "paralel"), for any word of
/// four letters or more; `wider`, only for words of seven or more
/// ("unision", "releese"): any letter dropped, added or replaced (shorter
/// words have too many real neighbours: "night" and "right"). nullopt for
/// a word not worth mending: not plain ASCII letters, shorter than four,
/// or a stop word. `short_words_too`: the wider slips for words of four
/// letters or more as well ("snre", "maser"), for a question none of whose
/// words the corpus holds, which would otherwise go on to the trigram tier
/// (which matches "night" to "right" as readily).
struct SpellingNeighbours {
  std::vector<std::string> gentle;
  std::vector<std::string> wider;
};
/// `wider`: false leaves `wider` empty (it is most of the work).
std::optional<SpellingNeighbours> spelling_neighbours(std::string_view word,
                                                      bool short_words_too = false,
                                                      bool wider = true);

/// Of the neighbours the corpus holds, the one on the most documents (ties:
/// the first in byte order), as a word that stems to it alone (the lexeme,
/// or it with a common ending: a stem is often no word), so a search treats
/// it as any other word. nullopt when none is held.
struct Spelling {
  std::string word;
  const ChampionList* list = nullptr;
};
std::optional<Spelling> choose_spelling(const std::vector<const ChampionList*>& held);

}  // namespace chrysopedia::search

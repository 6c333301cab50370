#pragma once

#include <string>
#include <vector>

#include "chrysopedia/history/history_store.hpp"
#include "chrysopedia/llm/llm_client.hpp"
#include "chrysopedia/search/search_client.hpp"

namespace chrysopedia::chat {

/// The numbered context block of SPEC §3, each source quoted between
/// `<source N>` and `</source N>` lines (issue 15: text inside a page cannot
/// pose as our instructions); "(No sources available)" when empty.
std::string context_block(const std::vector<search::SearchItem>& items);

/// The system message of SPEC §3, with one more line saying that what the
/// source tags quote is reference text, never instructions.
std::string system_prompt(const std::vector<search::SearchItem>& items);

/// `text` with every `<source` and `</source` (any case) written `‹source`,
/// so that page text cannot open or close a source quotation.
std::string defuse_source_tags(std::string_view text);

/// System message, then the stored history, then the user's query.
std::vector<llm::ChatMessage> build_messages(const std::vector<search::SearchItem>& items,
                                             const std::vector<history::Message>& history,
                                             const std::string& query);

/// The `sources` event's data: a JSON array, one object per item.
std::string sources_json(const std::vector<search::SearchItem>& items);

/// At most `max_chars` Unicode characters of `text` (never splitting one).
std::string clip_characters(const std::string& text, std::size_t max_chars);

/// `text` if it has at most `max_chars` characters; otherwise cut at the last
/// word boundary before that, ending with "…".
std::string clip_at_word(const std::string& text, std::size_t max_chars);

}  // namespace chrysopedia::chat

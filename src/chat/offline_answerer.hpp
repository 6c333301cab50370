#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chrysopedia/llm/llm_client.hpp"
#include "chrysopedia/search/search_client.hpp"

namespace chrysopedia::chat {

/// The answer without a model (SPEC §4, no LLM_API_URL): the source
/// sentences that best match the question, each cited [N], in source order,
/// or an honest "nothing here" when no sentence shares the question's
/// words. Deterministic: the same sources and question give the same text.
std::string offline_answer(const std::string& query, const std::vector<search::SearchItem>& items);

/// Streams offline_answer in small deltas (a word or two each), as a model
/// would, through the same CompletionStream interface.
std::unique_ptr<llm::CompletionStream> offline_stream(const std::string& query,
                                                      const std::vector<search::SearchItem>& items);

}  // namespace chrysopedia::chat

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

/// The answerer without a model, as an LlmClient: streams offline_answer
/// for the request's last user message and its sources in small deltas (a
/// word or two each), as a model would.
class OfflineAnswerer final : public llm::LlmClient {
 public:
  std::unique_ptr<llm::CompletionStream> start(const llm::CompletionRequest& request) override;
};

}  // namespace chrysopedia::chat

#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "chrysopedia/llm/llm_client.hpp"

namespace chrysopedia::chat {

/// What became of asking the model to make a follow-up standalone.
struct Rewrite {
  std::optional<std::string> query;  ///< the standalone question, when there is one
  std::string outcome;               ///< "model", "timeout", "failed" or "unusable"
};

/// Asks the model, in one short call (temperature 0, a few dozen tokens),
/// to turn `followup` into a standalone search query in the light of the
/// conversation's earlier user questions (oldest first). Never throws for
/// the model's sake: past `budget`, or on any failure, the caller searches
/// in context instead (search/followup.hpp). Cancellable.
boost::asio::awaitable<Rewrite> rewrite_followup(llm::LlmClient& llm, const std::string& model,
                                                 const std::vector<std::string>& earlier,
                                                 const std::string& followup,
                                                 std::chrono::milliseconds budget);

/// The messages of that call (for tests and the fake).
std::vector<llm::ChatMessage> rewrite_messages(const std::vector<std::string>& earlier,
                                               const std::string& followup);

}  // namespace chrysopedia::chat

#pragma once

#include <memory>
#include <string>

#include "chat/chat_service.hpp"

namespace chrysopedia::chat {

class StreamMetrics;

/// What the relay needs of an answer's beginning: the model's stream and
/// what the end reports of the search.
struct AnswerStart {
  std::unique_ptr<llm::CompletionStream> completion;
  std::size_t source_count = 0;
  std::string cascade_tier;
  std::string searched_query;
};

// An answer's phases, each its own coroutine: a coroutine's frame keeps
// every local it has for as long as it runs, and an answer may stream for
// minutes, thousands at a time. What only the search and the prompt need
// (the request to the model, the pages found, the rewrite) is gone once
// the first phase returns.

/// Searches (a follow-up with its conversation's questions, or rewritten
/// when the operator asks for that), starts the model and sends the
/// sources. Null when the search failed; the sink has been told.
boost::asio::awaitable<std::unique_ptr<AnswerStart>> begin_answer(const config::Settings& settings,
                                                                  const ChatPeers& peers,
                                                                  Turn& turn, AnswerSink& sink,
                                                                  StreamMetrics& metrics);

/// Relays the model's tokens to the sink until the model ends, a reader
/// stops it or the answer is abandoned; then tells the sink how it ended.
boost::asio::awaitable<void> relay_answer(Turn& turn, AnswerStart& start, AnswerSink& sink,
                                          StreamMetrics& metrics);

}  // namespace chrysopedia::chat

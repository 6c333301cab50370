#pragma once

#include <functional>
#include <memory>

#include "chrysopedia/chat/answer.hpp"
#include "chrysopedia/config/settings.hpp"
#include "chrysopedia/history/history_store.hpp"
#include "chrysopedia/history/stream_journal.hpp"
#include "chrysopedia/http/router.hpp"
#include "chrysopedia/llm/llm_client.hpp"
#include "chrysopedia/search/search_client.hpp"

namespace chrysopedia::chat {

class NativeFace;

/// The peers one request talks to, none of them null. Search is shared;
/// memory and the model client belong to the event loop the request runs
/// on. Without REDIS_URL memory is a history::NoHistoryStore; without
/// LLM_API_URL the model is the OfflineAnswerer.
struct ChatPeers {
  search::SearchClient* search = nullptr;
  history::HistoryStore* history = nullptr;
  llm::LlmClient* llm = nullptr;
  history::StreamJournal* journal = nullptr;  ///< without Redis, a journal that keeps nothing
};

/// Finds the peers of the calling thread's event loop.
using PeersOfThisLoop = std::function<ChatPeers()>;

/// The chat pipeline (SPEC §2-§4: search, prompt, model, citations) with
/// its own face, the chat endpoint and the conversations API (SPEC §1, §5).
/// Other faces (the OpenAI-compatible one, SPEC §10) call `answer` with an
/// encoder of their own.
class ChatService final : public Answerer {
 public:
  ChatService(const config::Settings& settings, PeersOfThisLoop peers);

  /// Puts a route's handler behind access checks; `opens_stream` is true
  /// for the chat endpoint.
  using RouteGuard = std::function<http::Handler(http::Handler, bool opens_stream)>;

  /// Registers POST /api/v1/chat, GET /api/v1/chat/streams/{id}, POST
  /// /api/v1/chat/streams/{id}/stop and
  /// GET/DELETE /api/v1/conversations/{id},
  /// each behind `guard` when one is given.
  void add_routes(http::Router& router, const RouteGuard& guard = {});

  boost::asio::awaitable<void> answer(Turn turn, AnswerSink& sink) override;

  boost::asio::awaitable<void> chat(http::Exchange& exchange);
  boost::asio::awaitable<void> get_conversation(http::Exchange& exchange);
  /// GET /api/v1/chat/streams/{id} (SPEC §11): the events after
  /// Last-Event-ID (or ?after=), then the rest as they are kept.
  boost::asio::awaitable<void> resume_stream(http::Exchange& exchange);
  /// POST /api/v1/chat/streams/{id}/stop (SPEC §11).
  boost::asio::awaitable<void> stop_stream(http::Exchange& exchange);
  boost::asio::awaitable<void> delete_conversation(http::Exchange& exchange);

 private:
  struct OpenedTurn;
  // The chat endpoint's turn and face, or null when it has answered the
  // request itself (a bad request, a conversation it cannot continue).
  boost::asio::awaitable<std::unique_ptr<OpenedTurn>> open_turn(http::Exchange& exchange);
  // The native face's answer, run apart from its request (resume on).
  boost::asio::awaitable<void> answer_detachable(std::unique_ptr<Turn> turn,
                                                 std::shared_ptr<NativeFace> face,
                                                 std::shared_ptr<void> stream_slot);

  const config::Settings& settings_;
  PeersOfThisLoop peers_;
};

/// A random (version 4) UUID.
std::string make_uuid4();

}  // namespace chrysopedia::chat

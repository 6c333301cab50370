#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chrysopedia/chat/answer.hpp"
#include "chrysopedia/history/history_store.hpp"
#include "chrysopedia/history/stream_journal.hpp"
#include "chrysopedia/http/exchange.hpp"

namespace chrysopedia::chat {

/// The chat endpoint's encoder (SPEC §1): an event stream opened as soon as
/// the question is taken, `sources`, `token`s, and `done` (after the turn
/// is saved to memory) or `error`. With a stream writer (SPEC §11) every
/// event also carries an `id:` and is kept for readers who resume.
class NativeFace final : public AnswerSink {
 public:
  struct Memory {
    history::HistoryStore* store = nullptr;
    std::string stored_id;  ///< the conversation's key in the store
    bool save = true;       ///< CHAT_HISTORY_MAX_TURN_PAIRS > 0
  };

  NativeFace(http::Exchange& exchange, Memory memory, std::string question,
             std::string conversation_id, std::chrono::steady_clock::time_point started,
             std::unique_ptr<history::StreamWriter> writer = nullptr);

  boost::asio::awaitable<void> begin() override;
  boost::asio::awaitable<void> search_failed() override;
  boost::asio::awaitable<void> sources(const Sources& sources) override;
  boost::asio::awaitable<void> token(std::string_view delta) override;
  boost::asio::awaitable<void> model_failed(int status) override;
  boost::asio::awaitable<void> answered(const Answered& answer) override;
  bool stop_requested() const override { return writer_ && writer_->stop_requested(); }

 private:
  boost::asio::awaitable<void> send(std::string_view event, std::string_view data);

  http::Exchange& exchange_;
  http::EventStream* events_ = nullptr;
  Memory memory_;
  std::string question_;
  std::string conversation_id_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<history::StreamWriter> writer_;  // null: not kept, no ids
  // What a citation names in `done`: each source's page and section.
  std::vector<std::pair<std::string, std::string>> cited_as_;
};

}  // namespace chrysopedia::chat

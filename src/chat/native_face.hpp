#pragma once

#include <chrono>
#include <functional>
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
  void awaiting_model(bool waiting) override { awaiting_model_ = waiting; }
  void caught_up() override;
  bool abandoned() const override;

  /// Whether the answer is kept for readers: then ChatService runs it apart
  /// from the request (so a stop can cut a silent model's wait short) and
  /// detaches it when the client leaves, to go on for the grace (with
  /// CHAT_DETACHED_GRACE_SECONDS=0, none: it ends at once).
  bool detachable() const { return writer_ != nullptr; }
  void set_grace(std::chrono::seconds grace) { grace_ = grace; }
  /// The client left: nothing more is written to it (the stream is still
  /// kept), and the answer goes on while somebody resumes it. Returns
  /// whether a write to the client is under way (the caller cancels it and
  /// waits for it to unwind before the request's objects go). Idempotent.
  bool detach();
  bool writing() const { return writing_; }
  /// When a detached answer is given up unless a reader turns up first.
  std::chrono::steady_clock::time_point abandoned_at() const;
  /// Called when a write that detach() found under way has unwound.
  void set_on_unwound(std::function<void()> f) { on_unwound_ = std::move(f); }
  /// Called once, when the answer is detached (by detach(), or by a write
  /// to the client failing).
  void set_on_detached(std::function<void()> f) { on_detached_ = std::move(f); }
  /// Called (on this loop) when someone asks to stop the answer, at once
  /// when the stop is published to this replica.
  void set_on_stop(std::function<void()> f) {
    if (writer_) writer_->on_stop(std::move(f));
  }
  bool is_awaiting_model() const { return awaiting_model_; }

 private:
  boost::asio::awaitable<void> send(std::string_view event, std::string_view data);
  // Runs a write to the client; one the client's leaving cut ends quietly
  // when the answer can go on without it.
  boost::asio::awaitable<void> to_client(boost::asio::awaitable<void> write);

  http::Exchange& exchange_;
  std::string request_id_;
  std::chrono::seconds grace_{0};
  bool detached_ = false;
  bool writing_ = false;
  bool awaiting_model_ = false;
  std::function<void()> on_unwound_;
  std::function<void()> on_detached_;
  std::chrono::steady_clock::time_point detached_at_{};
  http::EventStream* events_ = nullptr;
  Memory memory_;
  std::string question_;
  std::string conversation_id_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<history::StreamWriter> writer_;  // null: not kept, no ids
  // What a citation names in `done`: each source's page and section, as
  // "slug\0anchor\0" one after another (one allocation, held while the
  // answer streams, rather than two strings a source).
  std::string cited_as_;
};

}  // namespace chrysopedia::chat

#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "chrysopedia/history/history_store.hpp"

namespace chrysopedia::chat {

/// One question to answer, whichever face it came through (SPEC §1 or
/// §10): what the chat pipeline needs, already validated.
struct Turn {
  std::string question;
  std::optional<std::string> creator;
  std::vector<history::Message> history;  ///< the conversation before it
  /// The caller's own system messages, sent after ours in their order.
  std::vector<std::string> extra_system;
  /// The caller's settings for the model; unset: the server's.
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::vector<std::string> stop;
  std::optional<std::string> user;
  /// Record each citation marker's span (for annotations), not only which
  /// numbers were cited. Off for streams: a marker list grows with the answer.
  bool keep_markers = false;
  std::string conversation_id;  ///< for logs ("" when none)
  std::string request_id;
  std::string face;  ///< for logs: "chat" or "openai"
  std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
};

/// A numbered source as a face needs it to point at it.
struct SourceRef {
  std::string title;
  std::string slug;
  std::string anchor;  ///< "" for a page-level hit
};

/// The sources of an answer: [1] first.
struct Sources {
  std::vector<SourceRef> refs;
  std::string json;  ///< SPEC §1's `sources` event data: an array of objects
};

/// One citation marker of an answer (`[2]`, `[2, 3]`, `[1-3]`): its span in
/// bytes of the answer's text, and the numbers it cites, as written.
struct CitationMarker {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::vector<int> numbers;
};

struct TurnUsage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

/// How an answer ended.
struct Answered {
  std::string_view text;  ///< the whole answer
  std::string cascade_tier;
  std::string searched_query;
  std::vector<int> cited;               ///< listed sources cited, in order of first citation
  std::vector<int> invalid;             ///< numbers cited that name no source
  std::vector<CitationMarker> markers;  ///< when Turn::keep_markers
  std::optional<TurnUsage> usage;       ///< the upstream's counts, if it reported them
  std::string finish_reason;            ///< "" when the upstream sent none
  bool stopped = false;  ///< a reader asked to stop: `text` is what was sent until then
};

/// A face's encoder: what the pipeline says, in the order it says it —
/// `begin`, then `search_failed`, or `sources`, `token`s, and `model_failed`
/// or `answered`. A face that can still answer with an error status has
/// not written a byte yet; each decides when its response starts.
class AnswerSink {
 public:
  virtual ~AnswerSink() = default;
  /// The question is taken; its search may be under way already (it is
  /// asked first, and this runs while it is), its result not yet known.
  virtual boost::asio::awaitable<void> begin() = 0;
  virtual boost::asio::awaitable<void> search_failed() = 0;
  virtual boost::asio::awaitable<void> sources(const Sources& sources) = 0;
  virtual boost::asio::awaitable<void> token(std::string_view delta) = 0;
  /// The model failed, before or after its first token; `status` is its
  /// HTTP status when it answered with one (else 0).
  virtual boost::asio::awaitable<void> model_failed(int status) = 0;
  virtual boost::asio::awaitable<void> answered(const Answered& answer) = 0;
  /// Whether someone asked to stop this answer (SPEC §11, the stop
  /// endpoint); asked after each token.
  virtual bool stop_requested() const { return false; }
  /// The pipeline is waiting for the model's next token (true) or has it
  /// (false): a stop asked while it waits may end the wait at once.
  virtual void awaiting_model(bool waiting) { (void)waiting; }
  /// The model has nothing more for now: tokens the face held (see
  /// http::EventStream::hold) go to the client.
  virtual void caught_up() {}
  /// Whether nobody will read the rest (the client left, and no reader
  /// resumed the stream within CHAT_DETACHED_GRACE_SECONDS): the answer
  /// ends at once, nothing saved. Asked after each token.
  virtual bool abandoned() const { return false; }
};

/// The chat pipeline (SPEC §2-§4): search, prompt, model, citations.
class Answerer {
 public:
  virtual ~Answerer() = default;
  virtual boost::asio::awaitable<void> answer(Turn turn, AnswerSink& sink) = 0;
};

}  // namespace chrysopedia::chat

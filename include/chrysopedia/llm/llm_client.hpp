#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace chrysopedia::llm {

struct ChatMessage {
  std::string role;  ///< "system", "user" or "assistant"
  std::string content;
};

struct CompletionRequest {
  std::vector<ChatMessage> messages;
  std::string model;
  double temperature = 0.3;
  int max_tokens = 2048;
  bool stream_usage = true;              ///< ask for usage in the stream (stream_options)
  std::vector<std::string> stop = {};    ///< sequences that end the answer (none: not sent)
  std::optional<std::string> user = {};  ///< the end user, as the caller names them
  /// The numbered sources' texts, [1] first. A model reads them in the
  /// messages; an answerer without one (the offline answerer) answers from
  /// these. Never sent upstream.
  std::vector<std::string> sources = {};
};

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

struct CompletionResult {
  std::string text;  ///< every delta, concatenated
  std::optional<Usage> usage;
  std::string finish_reason;  ///< "" when the upstream sent none
};

/// Why a completion failed. Messages are for logs and never hold the key.
class LlmError : public std::runtime_error {
 public:
  enum class Kind {
    connect,      ///< refused, unreachable, DNS, TLS
    http_status,  ///< a non-2xx answer (status(), body())
    timeout,      ///< connect, idle or total time exceeded
    upstream,     ///< an {"error": ...} chunk
    protocol,     ///< not a valid stream (not JSON, a line too long, ...)
    truncated,    ///< the stream ended without [DONE] or a finish reason
  };
  LlmError(Kind kind, const std::string& message, int status = 0, std::string body = {})
      : std::runtime_error(message), kind_(kind), status_(status), body_(std::move(body)) {}
  Kind kind() const { return kind_; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }

 private:
  Kind kind_;
  int status_;
  std::string body_;
};

/// One streaming completion in progress. Destroying it stops the transfer
/// at once (the upstream sees its connection closed).
class CompletionStream {
 public:
  virtual ~CompletionStream() = default;

  /// The next content delta, or nullopt once the completion has finished
  /// (then result() holds the whole of it). Throws LlmError on failure.
  /// Cancellable: a cancelled wait throws operation_aborted.
  virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
  /// Whether next() has a delta without waiting (more of what one read
  /// from the model brought).
  virtual bool ready() const { return false; }

  virtual const CompletionResult& result() const = 0;
};

/// A streaming chat-completion client (SPEC §4), used from one event loop.
class LlmClient {
 public:
  virtual ~LlmClient() = default;

  /// Starts a completion; deltas and errors arrive through the stream.
  /// Where it can (a pooled connection), the request has left when this
  /// returns, so what the caller does next overlaps the model's reading it.
  virtual std::unique_ptr<CompletionStream> start(const CompletionRequest& request) = 0;
};

}  // namespace chrysopedia::llm

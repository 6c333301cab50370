#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace chrysopedia::history {

/// One remembered message, as SPEC §5 stores it.
struct Message {
  std::string role;  ///< "user" or "assistant"
  std::string content;
  bool operator==(const Message&) const = default;
};

/// The store failed (unreachable, timed out, or holding something that is
/// not a conversation). The message is for logs.
class HistoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Memory is switched off on this server (no REDIS_URL): there is no
/// conversation to read. The message says so in words a user can act on.
class MemoryOff : public HistoryError {
 public:
  using HistoryError::HistoryError;
};

/// Conversation memory behind an interface, so the chat can be tested with
/// a fake and run with none. Every operation is bounded in time.
class HistoryStore {
 public:
  virtual ~HistoryStore() = default;

  /// The conversation so far (empty when there is none). Throws
  /// HistoryError when the store fails or holds garbage under the key.
  virtual boost::asio::awaitable<std::vector<Message>> load(const std::string& conversation_id) = 0;

  /// Appends a completed turn atomically on the server, keeps the newest
  /// `max_messages`, and sets the time to live, all in one step. Two
  /// overlapping appends to one conversation both land, in the order they
  /// complete. Throws HistoryError.
  virtual boost::asio::awaitable<void> append_turn(const std::string& conversation_id,
                                                   const std::string& user,
                                                   const std::string& assistant) = 0;

  /// The conversation, or nullopt when absent. Throws HistoryError.
  virtual boost::asio::awaitable<std::optional<std::vector<Message>>> get(
      const std::string& conversation_id) = 0;

  /// Deletes the conversation (absent is fine). Throws HistoryError.
  virtual boost::asio::awaitable<void> remove(const std::string& conversation_id) = 0;

  /// For /readyz: empty when the store answers within `timeout` (or there
  /// is nothing to wait for), else why not. Never throws.
  virtual boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds timeout) = 0;
};

/// Parses a stored conversation (a JSON array of {"role", "content"}).
/// Throws HistoryError when the text is anything else.
std::vector<Message> parse_conversation(const std::string& json);

}  // namespace chrysopedia::history

#pragma once

#include <chrono>

#include "chrysopedia/history/history_store.hpp"
#include "history/redis_connection.hpp"

namespace chrysopedia::history {

struct RedisHistoryOptions {
  int max_messages = 20;  ///< CHAT_HISTORY_MAX_TURN_PAIRS * 2
  std::chrono::seconds ttl{3600};
  std::chrono::milliseconds load_timeout{250};  ///< a chat waits no longer for its memory
  std::chrono::milliseconds write_timeout{1000};
};

/// HistoryStore over Redis in the reference format (SPEC §5): the key
/// `chrysopedia:chat:{id}` holds a JSON array of {"role", "content"}.
/// Appends run as one Lua script on the server (read, append, trim, SET
/// with EX), so overlapping turns both land and content and TTL are always
/// written together.
class RedisHistoryStore final : public HistoryStore {
 public:
  RedisHistoryStore(RedisConnection& connection, RedisHistoryOptions options);

  boost::asio::awaitable<std::vector<Message>> load(const std::string& conversation_id) override;
  boost::asio::awaitable<void> append_turn(const std::string& conversation_id,
                                           const std::string& user,
                                           const std::string& assistant) override;
  boost::asio::awaitable<std::optional<std::vector<Message>>> get(
      const std::string& conversation_id) override;
  boost::asio::awaitable<void> remove(const std::string& conversation_id) override;
  boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds timeout) override;

 private:
  RedisConnection& connection_;
  RedisHistoryOptions options_;
};

/// `chrysopedia:chat:{id}`
std::string history_key(const std::string& conversation_id);

}  // namespace chrysopedia::history

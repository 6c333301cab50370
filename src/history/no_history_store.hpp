#pragma once

#include "chrysopedia/history/history_store.hpp"

namespace chrysopedia::history {

/// Memory switched off (no REDIS_URL): every conversation is new, a turn is
/// forgotten as it ends, deleting finds nothing to delete, and reading one
/// is MemoryOff.
class NoHistoryStore final : public HistoryStore {
 public:
  boost::asio::awaitable<std::vector<Message>> load(const std::string& conversation_id) override;
  boost::asio::awaitable<void> append_turn(const std::string& conversation_id,
                                           const std::string& user,
                                           const std::string& assistant) override;
  boost::asio::awaitable<std::optional<std::vector<Message>>> get(
      const std::string& conversation_id) override;
  boost::asio::awaitable<void> remove(const std::string& conversation_id) override;
  boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds timeout) override;
};

}  // namespace chrysopedia::history

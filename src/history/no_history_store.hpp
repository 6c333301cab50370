#pragma once

#include "chrysopedia/history/history_store.hpp"

namespace chrysopedia::history {

/// Memory switched off (no REDIS_URL): every conversation is new, a turn is
/// forgotten as it ends, deleting finds nothing to delete, reading one is
/// MemoryOff, and there is nothing to wait for at /readyz.
class NoHistoryStore final : public HistoryStore {
 public:
  boost::asio::awaitable<std::vector<Message>> load(const std::string&) override {
    co_return std::vector<Message>{};
  }
  boost::asio::awaitable<void> append_turn(const std::string&, const std::string&,
                                           const std::string&) override {
    co_return;
  }
  boost::asio::awaitable<std::optional<std::vector<Message>>> get(const std::string&) override {
    throw MemoryOff("Conversation memory is off on this server (REDIS_URL is empty).");
    co_return std::nullopt;
  }
  boost::asio::awaitable<void> remove(const std::string&) override { co_return; }
  boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds) override {
    co_return std::string();
  }
};

}  // namespace chrysopedia::history

#pragma once

#include <map>
#include <string>
#include <vector>

#include "chrysopedia/history/history_store.hpp"

namespace chrysopedia::test {

/// Conversation memory in a map, with switches that make each operation
/// fail as an unreachable Redis would.
class FakeHistoryStore final : public history::HistoryStore {
 public:
  std::map<std::string, std::vector<history::Message>> conversations;
  bool fail_load = false;
  bool fail_save = false;
  int appends = 0;

  boost::asio::awaitable<std::vector<history::Message>> load(const std::string& id) override {
    if (fail_load) throw history::HistoryError("redis: connection refused");
    const auto it = conversations.find(id);
    co_return it == conversations.end() ? std::vector<history::Message>{} : it->second;
  }
  boost::asio::awaitable<void> append_turn(const std::string& id, const std::string& user,
                                           const std::string& assistant) override {
    if (fail_save) throw history::HistoryError("redis: connection refused");
    ++appends;
    auto& c = conversations[id];
    c.push_back({"user", user});
    c.push_back({"assistant", assistant});
    co_return;
  }
  boost::asio::awaitable<std::optional<std::vector<history::Message>>> get(
      const std::string& id) override {
    if (fail_load) throw history::HistoryError("redis: connection refused");
    const auto it = conversations.find(id);
    if (it == conversations.end()) co_return std::nullopt;
    co_return it->second;
  }
  boost::asio::awaitable<void> remove(const std::string& id) override {
    if (fail_save) throw history::HistoryError("redis: connection refused");
    conversations.erase(id);
    co_return;
  }
  boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds) override {
    co_return fail_load ? std::string("redis: connection refused") : std::string();
  }
};

}  // namespace chrysopedia::test

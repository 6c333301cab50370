#include "history/no_history_store.hpp"

namespace chrysopedia::history {

boost::asio::awaitable<std::vector<Message>> NoHistoryStore::load(const std::string&) {
  co_return std::vector<Message>{};
}

boost::asio::awaitable<void> NoHistoryStore::append_turn(const std::string&, const std::string&,
                                                         const std::string&) {
  co_return;
}

boost::asio::awaitable<std::optional<std::vector<Message>>> NoHistoryStore::get(
    const std::string&) {
  throw MemoryOff("Conversation memory is off on this server (REDIS_URL is empty).");
  co_return std::nullopt;
}

boost::asio::awaitable<void> NoHistoryStore::remove(const std::string&) {
  co_return;
}

boost::asio::awaitable<std::string> NoHistoryStore::readiness(std::chrono::milliseconds) {
  co_return std::string();  // nothing to wait for
}

}  // namespace chrysopedia::history

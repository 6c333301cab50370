#pragma once

#include "chrysopedia/history/stream_journal.hpp"

namespace chrysopedia::history {

/// No Redis: no stream is kept, none can be resumed (SPEC §11).
class NoStreamJournal final : public StreamJournal {
 public:
  std::unique_ptr<StreamWriter> open(const std::string&) override { return nullptr; }
  boost::asio::awaitable<std::optional<std::vector<KeptEvent>>> read(const std::string&,
                                                                     const std::string&, long long,
                                                                     std::size_t) override {
    co_return std::nullopt;
  }
  boost::asio::awaitable<StopOutcome> stop(const std::string&, const std::string&) override {
    co_return StopOutcome::unknown;
  }
  boost::asio::awaitable<bool> alive(const std::string&, const std::string&) override {
    co_return false;
  }
};

}  // namespace chrysopedia::history

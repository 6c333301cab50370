#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chrysopedia/history/stream_journal.hpp"

namespace chrysopedia::test {

/// A StreamJournal in memory: every stream's events, by owner and id, kept
/// as soon as they are appended; `off` makes it keep nothing (as without
/// Redis).
class FakeStreamJournal final : public history::StreamJournal {
 public:
  struct Stream {
    std::vector<history::KeptEvent> events;
    bool finished = false;
    bool stop = false;
    bool dead = false;                                    ///< its writer's replica died
    std::chrono::steady_clock::time_point reader_seen{};  ///< set by read()
    std::function<void()> on_stop;                        ///< its writer's
  };
  std::map<std::string, Stream> streams;  ///< by "owner|id"
  bool off = false;
  int opened = 0;
  /// A stop asked for as soon as a stream holds this many events.
  std::optional<std::size_t> stop_at;

  std::unique_ptr<history::StreamWriter> open(const std::string& owner) override {
    if (off) return nullptr;
    const std::string id = std::string(31, '0') + static_cast<char>('a' + opened++ % 6);
    streams[owner + "|" + id];
    return std::make_unique<Writer>(*this, owner + "|" + id, id);
  }

  boost::asio::awaitable<std::optional<std::vector<history::KeptEvent>>> read(
      const std::string& owner, const std::string& stream_id, long long after,
      std::size_t max) override {
    const auto it = streams.find(owner + "|" + stream_id);
    if (it == streams.end()) co_return std::nullopt;
    it->second.reader_seen = std::chrono::steady_clock::now();
    std::vector<history::KeptEvent> out;
    for (const auto& e : it->second.events) {
      if (e.seq > after && out.size() < max) out.push_back(e);
    }
    co_return out;
  }

  boost::asio::awaitable<bool> alive(const std::string& owner,
                                     const std::string& stream_id) override {
    const auto it = streams.find(owner + "|" + stream_id);
    co_return it != streams.end() && !it->second.dead;
  }

  boost::asio::awaitable<history::StopOutcome> stop(const std::string& owner,
                                                    const std::string& stream_id) override {
    const auto it = streams.find(owner + "|" + stream_id);
    if (it == streams.end()) co_return history::StopOutcome::unknown;
    if (it->second.finished) co_return history::StopOutcome::ended;
    it->second.stop = true;
    co_return history::StopOutcome::stopping;
  }

  /// Every running stream asked to stop, as a stop published by another
  /// replica is heard: the flag, and the writer told at once.
  void stop_all_now() {
    for (auto& [key, s] : streams) {
      if (s.finished || s.stop) continue;
      s.stop = true;
      if (s.on_stop) s.on_stop();
    }
  }

 private:
  class Writer final : public history::StreamWriter {
   public:
    Writer(FakeStreamJournal& j, std::string key, std::string id)
        : j_(j), key_(std::move(key)), id_(std::move(id)) {}
    ~Writer() override {
      j_.streams[key_].on_stop = nullptr;
      if (!j_.streams[key_].finished) {
        append("error", R"({"message":"Stream abandoned"})");
        finish();
      }
    }
    const std::string& id() const override { return id_; }
    long long append(std::string_view event, std::string_view data) override {
      auto& s = j_.streams[key_];
      const long long seq = static_cast<long long>(s.events.size()) + 1;
      s.events.push_back({seq, std::string(event), std::string(data)});
      return seq;
    }
    void finish() override { j_.streams[key_].finished = true; }
    void on_stop(std::function<void()> callback) override {
      j_.streams[key_].on_stop = std::move(callback);
    }
    bool stop_requested() const override {
      const auto& s = j_.streams[key_];
      return s.stop || (j_.stop_at && s.events.size() >= *j_.stop_at);
    }
    std::chrono::steady_clock::time_point reader_seen() const override {
      return j_.streams[key_].reader_seen;
    }

   private:
    FakeStreamJournal& j_;
    std::string key_;
    std::string id_;
  };
};

}  // namespace chrysopedia::test

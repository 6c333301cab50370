#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "chrysopedia/http/exchange.hpp"

namespace chrysopedia::test {

/// One request handed to a handler with no socket behind it: what the
/// handler answers, or the events it streams, are kept for the test. A
/// client that goes away is `gone_after` events: the next send throws, as
/// a cancelled write does.
class FakeExchange final : public http::Exchange {
 public:
  struct Event {
    std::string name;
    std::string data;
    std::string id;
  };

  http::Request req;
  std::optional<http::Response> response;
  bool stream_opened = false;
  std::vector<Event> events;
  std::optional<std::size_t> gone_after;
  std::function<void()> on_open;                  ///< as the event stream opens
  std::function<void(std::string_view)> on_send;  ///< before each event is kept

  const http::Request& request() const override { return req; }
  void set_owner(std::string owner) override { req.owner = std::move(owner); }
  boost::asio::awaitable<void> respond(http::Response&& r) override {
    response = std::move(r);
    co_return;
  }
  std::vector<std::pair<std::string, std::string>> stream_headers;
  boost::asio::awaitable<http::EventStream*> open_event_stream(
      std::vector<std::pair<std::string, std::string>> headers = {}) override {
    if (on_open) on_open();
    stream_opened = true;
    stream_headers = std::move(headers);
    co_return &stream_;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.name);
    return out;
  }
  const Event* find(const std::string& name) const {
    for (const auto& e : events) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

 private:
  class Stream final : public http::EventStream {
   public:
    explicit Stream(FakeExchange& owner) : owner_(owner) {}
    boost::asio::awaitable<void> send(std::string_view event, std::string_view data,
                                      std::string_view id = {}) override {
      if (owner_.gone_after && owner_.events.size() >= *owner_.gone_after) {
        throw boost::system::system_error(boost::asio::error::operation_aborted);
      }
      if (owner_.on_send) owner_.on_send(event);
      owner_.events.push_back({std::string(event), std::string(data), std::string(id)});
      co_return;
    }

   private:
    FakeExchange& owner_;
  };
  Stream stream_{*this};
};

}  // namespace chrysopedia::test

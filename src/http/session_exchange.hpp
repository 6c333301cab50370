#pragma once

#include "chrysopedia/http/exchange.hpp"
#include "chrysopedia/http/sse_framer.hpp"

namespace chrysopedia::http {

class Session;

/// The Exchange (and, once opened, the EventStream) of one request on a
/// Session. Lives in the session's handle() frame for the request's span.
class SessionExchange final : public Exchange, public EventStream {
 public:
  SessionExchange(Session& session, Request& request, bool keep_alive)
      : session_(session), request_(request), keep_alive_(keep_alive) {}

  const Request& request() const override { return request_; }
  void set_owner(std::string owner) override { request_.owner = std::move(owner); }
  void hold_stream_slot(std::shared_ptr<void> slot) override { slot_ = std::move(slot); }
  std::shared_ptr<void> take_stream_slot() override { return std::move(slot_); }
  boost::asio::awaitable<void> respond(Response&& response) override;
  boost::asio::awaitable<EventStream*> open_event_stream(
      std::vector<std::pair<std::string, std::string>> headers = {}) override;
  boost::asio::awaitable<void> send(std::string_view event, std::string_view data,
                                    std::string_view id = {}) override;
  void hold() override;
  void release() override;

  bool started() const { return status_ != 0; }
  bool streaming() const { return streaming_; }
  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  Session& session_;
  Request& request_;
  bool keep_alive_;
  bool streaming_ = false;
  int status_ = 0;
  SseFramer framer_;
  std::string framed_;          // reused event after event
  std::shared_ptr<void> slot_;  // the access guard's stream slot, if any
};

}  // namespace chrysopedia::http

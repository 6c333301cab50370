#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>

#include "chrysopedia/http/event_stream.hpp"
#include "chrysopedia/http/request.hpp"

namespace chrysopedia::http {

/// One request and the means to answer it, handed to a route's handler.
/// A handler either calls `respond` once, or opens an event stream once and
/// sends events on it until it returns.
class Exchange {
 public:
  virtual ~Exchange() = default;

  virtual const Request& request() const = 0;

  /// Records whom the request acts for (Request::owner); the access guard
  /// calls it once it has checked the key, before the handler runs.
  virtual void set_owner(std::string owner) = 0;

  /// The request's place under CHAT_MAX_STREAMS, held by the exchange until
  /// the handler returns; a handler whose work outlives the request (an
  /// answer going on detached, SPEC §11) takes it, and keeps it to the
  /// end of that work. Null when the request holds none.
  virtual void hold_stream_slot(std::shared_ptr<void> slot) { (void)slot; }
  virtual std::shared_ptr<void> take_stream_slot() { return nullptr; }

  /// Writes a complete response.
  ///
  /// Callers: build the Response in a named variable, never as a braced
  /// temporary inside the co_await expression: g++ 12 copies such a
  /// temporary bitwise within the coroutine frame, which corrupts its
  /// strings (see ARCHITECTURE.md, "g++ 12 and coroutines").
  virtual boost::asio::awaitable<void> respond(Response&& response) = 0;

  /// Writes `200` with the event-stream headers (and `headers`, such as
  /// Chrysopedia-Stream-Id) and returns the stream, which lives until the
  /// handler returns.
  virtual boost::asio::awaitable<EventStream*> open_event_stream(
      std::vector<std::pair<std::string, std::string>> headers = {}) = 0;
};

}  // namespace chrysopedia::http

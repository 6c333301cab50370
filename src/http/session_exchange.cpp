#include "http/session_exchange.hpp"

#include <stdexcept>

#include "http/session.hpp"

namespace chrysopedia::http {

boost::asio::awaitable<void> SessionExchange::respond(Response&& response) {
  if (started()) throw std::logic_error("respond() after the response was started");
  status_ = response.status;
  co_await session_.write_response(request_, std::move(response), keep_alive_);
}

boost::asio::awaitable<EventStream*> SessionExchange::open_event_stream(
    std::vector<std::pair<std::string, std::string>> headers) {
  if (started()) throw std::logic_error("open_event_stream() after the response was started");
  status_ = 200;
  streaming_ = true;
  co_await session_.write_event_stream_head(request_, keep_alive_, std::move(headers));
  co_return this;
}

boost::asio::awaitable<void> SessionExchange::send(std::string_view event, std::string_view data,
                                                   std::string_view id) {
  if (!streaming_) throw std::logic_error("send() before open_event_stream()");
  framed_.clear();
  if (framer_.frame_into(framed_, event, data, id) == 0) co_return;
  co_await session_.write_chunk(framed_);
  if (framed_.capacity() > 2048) std::string().swap(framed_);  // the sources, once
}

void SessionExchange::hold() {
  if (streaming_) session_.hold_writes();
}

void SessionExchange::release() {
  if (streaming_) session_.release_writes();
}

}  // namespace chrysopedia::http

#pragma once

#include <optional>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

namespace chrysopedia::llm {

/// One coroutine's wait for "something changed", woken from the waker's own
/// turn of the loop: notify() resumes the waiter before it returns. A
/// timer's cancel (what this replaces) posts the wake-up instead, and a
/// posted handler costs the loop one more poll of its sockets, once a token
/// at a model's pace. So notify() only where the waiter may run and destroy
/// what it owns: not inside a library's callback. A wait still pending when
/// the loop shuts down is destroyed with it, as Asio's own are.
class InlineSignal {
 public:
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  explicit InlineSignal(boost::asio::io_context& ctx);
  ~InlineSignal();
  InlineSignal(const InlineSignal&) = delete;
  InlineSignal& operator=(const InlineSignal&) = delete;

  /// Completes with no error at notify(), operation_aborted when the wait's
  /// cancellation slot fires (that completion is posted). One wait at a time.
  template <typename Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) { start(Handler(std::move(handler))); }, token);
  }

  /// Resumes the waiter now; false when nobody waits.
  bool notify();

 private:
  struct Registry;
  friend struct Registry;

  void start(Handler handler);
  std::optional<Handler> take(bool clear_slot = true);
  void drop();  // the loop shuts down: the wait is destroyed, not completed

  boost::asio::io_context& ctx_;
  Registry& registry_;
  std::optional<Handler> waiter_;
  InlineSignal* prev_ = nullptr;  // on the registry's list while waiter_ is set
  InlineSignal* next_ = nullptr;
};

}  // namespace chrysopedia::llm

#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace chrysopedia::common {

/// Completes an awaiting coroutine exactly once with (exception, T), from
/// whichever comes first: the work's result (`complete`, callable from any
/// thread; the coroutine resumes on its own executor) or the coroutine's
/// cancellation (operation_aborted at once; a later result is dropped).
template <typename T>
class OneShot {
 public:
  /// Delivers the outcome. Safe to call more than once and from any thread.
  using Complete = std::function<void(std::exception_ptr, T)>;

  /// Starts `start(complete)` and awaits its outcome.
  static boost::asio::awaitable<T> run(std::function<void(Complete)> start) {
    auto initiate = [start = std::move(start)](auto handler) mutable {
      using H = decltype(handler);
      struct State {
        explicit State(H h) : handler(std::move(h)) {}
        std::optional<H> handler;
        void finish(std::exception_ptr error, T value) {
          if (!handler) return;
          H h = std::move(*handler);
          handler.reset();
          boost::asio::get_associated_cancellation_slot(h).clear();
          std::move(h)(error, std::move(value));
        }
      };
      auto executor = boost::asio::get_associated_executor(handler);
      auto state = std::make_shared<State>(std::move(handler));
      auto slot = boost::asio::get_associated_cancellation_slot(*state->handler);
      if (slot.is_connected()) {
        slot.assign([state](boost::asio::cancellation_type) {
          state->finish(std::make_exception_ptr(
                            boost::system::system_error(boost::asio::error::operation_aborted)),
                        T{});
        });
      }
      // Every outcome is posted to the coroutine's executor, where the
      // cancellation handler runs too: the two never race.
      start([state, executor](std::exception_ptr error, T value) {
        boost::asio::post(executor, [state, error, value = std::move(value)]() mutable {
          state->finish(error, std::move(value));
        });
      });
    };
    co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                   void(std::exception_ptr, T)>(
        std::move(initiate), boost::asio::use_awaitable);
  }
};

}  // namespace chrysopedia::common

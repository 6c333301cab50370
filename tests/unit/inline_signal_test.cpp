// The streaming client's wake-up for its consumer (llm/inline_signal.hpp):
// the waiter runs inside notify(), not on a later turn of the loop.
#include <gtest/gtest.h>

#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "llm/inline_signal.hpp"

namespace net = boost::asio;
using boost::system::error_code;
using chrysopedia::llm::InlineSignal;

namespace {

struct Outcome {
  int woken = 0;
  error_code last;
};

net::awaitable<void> wait_twice(InlineSignal& signal, Outcome& out) {
  for (int i = 0; i < 2; ++i) {
    auto [ec] = co_await signal.async_wait(net::as_tuple(net::use_awaitable));
    ++out.woken;
    out.last = ec;
    if (ec) co_return;
  }
}

}  // namespace

TEST(InlineSignal, NotifyRunsTheWaiterBeforeItReturns) {
  net::io_context ctx;
  InlineSignal signal(ctx);
  Outcome out;
  net::co_spawn(ctx, wait_twice(signal, out), net::detached);
  ctx.poll();  // the coroutine reaches its wait
  EXPECT_TRUE(signal.notify());
  // Without a turn of the loop in between: the waiter has run and waits again.
  EXPECT_EQ(out.woken, 1);
  EXPECT_FALSE(out.last);
  EXPECT_TRUE(signal.notify());
  EXPECT_EQ(out.woken, 2);
  EXPECT_FALSE(signal.notify()) << "nobody waits any more";
  EXPECT_EQ(ctx.poll(), 1u) << "the coroutine's end; no wake-up was posted";
}

TEST(InlineSignal, ANotifyFromAnotherHandlerLeavesNothingPosted) {
  net::io_context ctx;
  InlineSignal signal(ctx);
  Outcome out;
  net::co_spawn(ctx, wait_twice(signal, out), net::detached);
  ctx.poll();
  // What a read's completion does: the waiter resumes inside that handler.
  net::post(ctx, [&] { signal.notify(); });
  EXPECT_EQ(ctx.poll_one(), 1u);
  EXPECT_EQ(out.woken, 1);
  EXPECT_EQ(ctx.poll(), 0u) << "the waiter waits again; nothing is left to run";
}

TEST(InlineSignal, ACancelledWaitEndsAbortedOnALaterTurn) {
  net::io_context ctx;
  InlineSignal signal(ctx);
  net::cancellation_signal cancel;
  Outcome out;
  net::co_spawn(ctx, wait_twice(signal, out),
                net::bind_cancellation_slot(cancel.slot(), net::detached));
  ctx.poll();
  cancel.emit(net::cancellation_type::terminal);
  EXPECT_EQ(out.woken, 0) << "posted, not run inside emit()";
  ctx.poll();
  EXPECT_EQ(out.woken, 1);
  EXPECT_EQ(out.last, net::error::operation_aborted);
  EXPECT_FALSE(signal.notify());
}

TEST(InlineSignal, AWaitPendingWhenTheLoopEndsIsDestroyedWithIt) {
  // The coroutine owns the signal (as a stream's consumer owns its state):
  // its frame must go with the loop, not leak.
  auto gone = std::make_shared<bool>(false);
  {
    net::io_context ctx;
    struct Owner {
      explicit Owner(net::io_context& c, std::shared_ptr<bool> g) : signal(c), gone(std::move(g)) {}
      ~Owner() { *gone = true; }
      InlineSignal signal;
      std::shared_ptr<bool> gone;
    };
    auto waiter = [](std::unique_ptr<Owner> owner) -> net::awaitable<void> {
      co_await owner->signal.async_wait(net::as_tuple(net::use_awaitable));
      ADD_FAILURE() << "never woken";
    };
    net::co_spawn(ctx, waiter(std::make_unique<Owner>(ctx, gone)), net::detached);
    ctx.poll();
    EXPECT_FALSE(*gone);
  }
  EXPECT_TRUE(*gone);
}

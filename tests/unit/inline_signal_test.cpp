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

TEST(InlineSignal, TheWaitsPendingWhenTheLoopEndsAreDestroyedWithIt) {
  // Each coroutine owns its signal (as a stream's consumer owns its
  // state): their frames must go with the loop, not leak; the middle one
  // was woken and waits again, the last never waited.
  auto gone = std::make_shared<int>(0);
  {
    net::io_context ctx;
    struct Owner {
      explicit Owner(net::io_context& c, std::shared_ptr<int> g) : signal(c), gone(std::move(g)) {}
      ~Owner() { ++*gone; }
      InlineSignal signal;
      std::shared_ptr<int> gone;
    };
    auto waiter = [](Owner* owner,
                     std::unique_ptr<Owner> /*kept by the frame*/) -> net::awaitable<void> {
      for (;;) co_await owner->signal.async_wait(net::as_tuple(net::use_awaitable));
    };
    std::vector<Owner*> owners;
    for (int i = 0; i < 3; ++i) {
      auto owner = std::make_unique<Owner>(ctx, gone);
      Owner* raw = owner.get();  // before the move: arguments have no order
      owners.push_back(raw);
      net::co_spawn(ctx, waiter(raw, std::move(owner)), net::detached);
    }
    ctx.poll();
    EXPECT_TRUE(owners[1]->signal.notify());
    EXPECT_EQ(*gone, 0);
  }
  EXPECT_EQ(*gone, 3);
}

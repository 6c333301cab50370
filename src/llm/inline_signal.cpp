#include "llm/inline_signal.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace chrysopedia::llm {

namespace net = boost::asio;

// The waits pending on one loop. A stored handler owns its coroutine's
// frames, which own the signal: without this, a loop that shuts down with a
// stream open would leak them (Asio destroys the waits it holds itself).
struct InlineSignal::Registry : net::execution_context::service {
  using key_type = Registry;
  static inline net::execution_context::id id;

  explicit Registry(net::execution_context& ctx) : service(ctx) {}

  void shutdown() override {
    // Each drop may destroy other signals, which leave the list themselves.
    while (head) head->drop();
  }

  // An intrusive list: a wait a token, and no allocation for it.
  void link(InlineSignal* s) {
    s->prev_ = nullptr;
    s->next_ = head;
    if (head) head->prev_ = s;
    head = s;
  }
  void unlink(InlineSignal* s) {
    (s->prev_ ? s->prev_->next_ : head) = s->next_;
    if (s->next_) s->next_->prev_ = s->prev_;
    s->prev_ = s->next_ = nullptr;
  }

  InlineSignal* head = nullptr;
};

namespace {

// Ends a wait as cancelled, on a later turn of the loop.
void post_aborted(net::io_context& ctx, InlineSignal::Handler h) {
  net::post(ctx, [h = std::move(h)]() mutable { std::move(h)(net::error::operation_aborted); });
}

}  // namespace

InlineSignal::InlineSignal(net::io_context& ctx)
    : ctx_(ctx), registry_(net::use_service<Registry>(ctx)) {}

InlineSignal::~InlineSignal() {
  auto pending = take();  // only if its coroutine's frames outlive the signal
}

void InlineSignal::start(Handler handler) {
  if (auto previous = take()) post_aborted(ctx_, std::move(*previous));
  auto slot = handler.get_cancellation_slot();
  waiter_.emplace(std::move(handler));
  registry_.link(this);
  if (slot.is_connected()) {
    slot.assign([this](net::cancellation_type) {
      // Posted: the cancellation is emitted from inside someone else's
      // work. The slot is left as it is: clearing it would destroy this
      // very function (the waiter's completion clears it).
      InlineSignal* self = this;
      if (auto h = self->take(false)) post_aborted(self->ctx_, std::move(*h));
    });
  }
}

std::optional<InlineSignal::Handler> InlineSignal::take(bool clear_slot) {
  if (!waiter_) return std::nullopt;
  std::optional<Handler> h = std::move(waiter_);
  waiter_.reset();
  registry_.unlink(this);
  if (clear_slot) {
    auto slot = h->get_cancellation_slot();
    if (slot.is_connected()) slot.clear();
  }
  return h;
}

bool InlineSignal::notify() {
  auto h = take();
  if (!h) return false;
  std::move (*h)(boost::system::error_code{});
  return true;
}

void InlineSignal::drop() {
  auto h = take();  // destroyed here, and with it perhaps this signal
}

}  // namespace chrysopedia::llm

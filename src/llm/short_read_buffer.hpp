#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/version.hpp>

// A stream socket's read buffer that tells Asio's reactor when a read came
// back short. At a model's pace a read brings one token and leaves the
// socket empty; Boost 1.81's epoll reactor nonetheless tries the next read
// at once (a "speculative" recv) and only then waits, so every token cost a
// recv that returned EAGAIN. A TCP read that returns less than it was given
// drained the socket at that moment, and the edge-triggered registration
// reports any byte that arrives after it, so the reactor may wait at once:
// it is told so the way it is told a read met the end of the stream
// (`done_and_exhausted`, which clears its speculative flag until the next
// readiness event sets it again). A read that fills its buffer (a burst)
// still reads again at once. Only for plain TCP: a TLS stream's reads of its
// own are not ours to wrap.
namespace chrysopedia::llm {

struct ShortReadBuffer {
  boost::asio::mutable_buffer buffer;

  const boost::asio::mutable_buffer* begin() const { return &buffer; }
  const boost::asio::mutable_buffer* end() const { return &buffer + 1; }
};

}  // namespace chrysopedia::llm

// The hook is the reactor's receive operation, an internal of Asio: it is
// written against 1.81 (Debian 12's) and any other Boost reads the plain
// way (one wasted recv a token, nothing worse).
#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING)
namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<chrysopedia::llm::ShortReadBuffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state,
                               const chrysopedia::llm::ShortReadBuffer& buffers,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffers_(buffers),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    const bool stream = (o->state_ & socket_ops::stream_oriented) != 0;
    const std::size_t size = o->buffers_.buffer.size();
    if (!socket_ops::non_blocking_recv1(o->socket_, o->buffers_.buffer.data(), size, o->flags_,
                                        stream, o->ec_, o->bytes_transferred_)) {
      return not_done;
    }
    if (stream && (o->bytes_transferred_ == 0 || (!o->ec_ && o->bytes_transferred_ < size))) {
      return done_and_exhausted;
    }
    return done;
  }

 private:
  socket_type socket_;
  socket_ops::state_type state_;
  chrysopedia::llm::ShortReadBuffer buffers_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif

#pragma once

#include <netinet/tcp.h>

#include <cerrno>

#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/version.hpp>

#include "common/read_queued.hpp"

// A TCP read's buffer that lets Asio's reactor skip the read that finds
// nothing. At a model's pace a read brings one token and leaves the socket
// empty; Boost 1.81's epoll reactor nonetheless tries the next read at once
// (a "speculative" recv) and only then waits, so every token cost a recv
// that returned EAGAIN. With TCP_INQ on the socket the kernel says, with the
// bytes a read returns, how many are still queued (and, once the peer has
// closed, that the end is still to be read: a short read alone does not
// tell, the end can wait behind the last bytes with no further readiness
// event). When nothing is left the reactor is told so, the way it is told a
// read met the end of the stream (`done_and_exhausted`, which clears its
// speculative flag until the next readiness event sets it again), and the
// next read waits at once. The socket asks for the count with
// common::ask_for_queued_count; without the kernel's answer a read is an
// ordinary one.
namespace chrysopedia::llm {

struct DrainAwareBuffer {
  boost::asio::mutable_buffer buffer;

  const boost::asio::mutable_buffer* begin() const { return &buffer; }
  const boost::asio::mutable_buffer* end() const { return &buffer + 1; }
};

}  // namespace chrysopedia::llm

// The hook is the reactor's receive operation, an internal of Asio: it is
// written against 1.81 (Debian 12's); any other Boost reads the plain way
// (one wasted recv a token, nothing worse).
#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING) && defined(TCP_INQ)
namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<chrysopedia::llm::DrainAwareBuffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state,
                               const chrysopedia::llm::DrainAwareBuffer& buffers,
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
    const auto read =
        chrysopedia::common::read_queued(o->socket_, o->buffers_.buffer.data(), size, o->flags_);
    if (read.got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      o->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
      o->bytes_transferred_ = 0;
      return done_and_exhausted;
    }
    o->bytes_transferred_ = static_cast<std::size_t>(read.got);
    if (stream && read.got == 0) {  // (Asio never starts an empty stream read)
      o->ec_ = boost::asio::error::eof;
      return done_and_exhausted;
    }
    return read.queued == 0 ? done_and_exhausted : done;
  }

 private:
  socket_type socket_;
  socket_ops::state_type state_;
  chrysopedia::llm::DrainAwareBuffer buffers_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif

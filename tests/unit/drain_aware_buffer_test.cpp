// The upstream read's buffer (llm/drain_aware_buffer.hpp): after a read the
// kernel says left the socket empty the reactor waits for the socket instead
// of trying a recv that finds nothing, and no byte or end that arrives
// after it is missed. Counts the reads on the test's socket by standing in
// for recv(2) and recvmsg(2) in this process.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "common/read_queued.hpp"
#include "llm/drain_aware_buffer.hpp"

namespace {

std::atomic<int> watched_fd{-1};
std::atomic<int> recv_calls{0};

}  // namespace

// Asio reads a stream socket with recv(2), the short-read buffer with
// recvmsg(2); these definitions, the process's own, take their calls and
// count those on the watched socket.
extern "C" ssize_t recv(int fd, void* data, size_t size, int flags) {
  if (fd == watched_fd.load()) ++recv_calls;
  return static_cast<ssize_t>(::syscall(SYS_recvfrom, fd, data, size, flags, nullptr, nullptr));
}

extern "C" ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  if (fd == watched_fd.load()) ++recv_calls;
  return static_cast<ssize_t>(::syscall(SYS_recvmsg, fd, msg, flags));
}

namespace {

namespace net = boost::asio;
using boost::system::error_code;
using chrysopedia::llm::DrainAwareBuffer;
using net::ip::tcp;

// Two connected sockets and the one read at a time the tests make on the
// reading side.
struct Pair {
  net::io_context io;
  tcp::socket reader{io};
  tcp::socket writer{io};
  std::array<char, 16> space{};
  error_code ec;
  std::size_t got = 0;
  bool done = false;

  explicit Pair(bool queued_count_asked = true) {
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    writer.connect(acceptor.local_endpoint());
    acceptor.accept(reader);
    if (queued_count_asked) chrysopedia::common::ask_for_queued_count(reader.native_handle());
    writer.set_option(tcp::no_delay(true));
    watched_fd = reader.native_handle();
    recv_calls = 0;
  }
  ~Pair() { watched_fd = -1; }

  void send(const std::string& bytes) { net::write(writer, net::buffer(bytes)); }

  void start_read() {
    done = false;
    got = 0;
    reader.async_read_some(DrainAwareBuffer{net::buffer(space)},
                           [this](error_code e, std::size_t n) {
                             ec = e;
                             got = n;
                             done = true;
                           });
  }

  // Runs the loop until the read completes (or a second passes): one turn
  // of it may only poll the sockets.
  std::size_t finish_read() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    io.restart();
    while (!done && std::chrono::steady_clock::now() < until) {
      io.run_one_for(until - std::chrono::steady_clock::now());
    }
    return got;
  }

  std::size_t read() {
    start_read();
    return finish_read();
  }

  std::string text() const { return std::string(space.data(), got); }
};

}  // namespace

TEST(DrainAwareBuffer, AfterAReadThatEmptiesTheSocketTheNextWaitsWithoutARecv) {
  Pair pair;
  pair.send("token one");
  ASSERT_EQ(pair.read(), 9u);
  ASSERT_FALSE(pair.ec);
  EXPECT_EQ(recv_calls.load(), 1);

  // The socket is empty: starting the next read must not call recv (a
  // plain buffer's read tries one at once and it returns EAGAIN).
  pair.start_read();
  EXPECT_EQ(recv_calls.load(), 1);
  pair.send("two");
  pair.finish_read();
  ASSERT_TRUE(pair.done);
  EXPECT_FALSE(pair.ec);
  EXPECT_EQ(pair.text(), "two");
  EXPECT_EQ(recv_calls.load(), 2);
}

TEST(DrainAwareBuffer, BytesThatArriveAfterTheSocketWasEmptiedAreRead) {
  Pair pair;
  pair.send("first");
  ASSERT_EQ(pair.read(), 5u);
  // Sent before the next read starts: the reactor, not a recv at its start,
  // must find them.
  pair.send("second");
  ASSERT_EQ(pair.read(), 6u);
  EXPECT_FALSE(pair.ec);
  EXPECT_EQ(pair.text(), "second");
}

TEST(DrainAwareBuffer, AReadThatFillsItsBufferReadsAgainAtOnce) {
  Pair pair;
  pair.send(std::string(20, 'x'));
  ASSERT_EQ(pair.read(), 16u);
  EXPECT_EQ(recv_calls.load(), 1);
  // A burst: the rest is already there and the next read takes it with a
  // recv as it starts, before the loop waits on anything.
  pair.start_read();
  EXPECT_EQ(recv_calls.load(), 2);
  EXPECT_EQ(pair.finish_read(), 4u);
}

TEST(DrainAwareBuffer, TheEndOfTheStreamIsReported) {
  Pair pair;
  pair.send("last");
  ASSERT_EQ(pair.read(), 4u);
  pair.writer.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(pair.read(), 0u);
  EXPECT_EQ(pair.ec, net::error::eof);
}

TEST(DrainAwareBuffer, TheLastBytesAndTheEndArrivingTogetherAreBothRead) {
  Pair pair;
  // The end waits behind the bytes with no readiness event of its own: a
  // short read alone must not be taken for an empty socket.
  // The read waits first, so both reach it through one readiness event.
  pair.start_read();
  pair.send("last");
  pair.writer.shutdown(tcp::socket::shutdown_send);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(pair.finish_read(), 4u);
  ASSERT_FALSE(pair.ec);
  EXPECT_EQ(pair.read(), 0u);
  EXPECT_EQ(pair.ec, net::error::eof);
}

TEST(DrainAwareBuffer, WithoutTheKernelsCountAReadIsAnOrdinaryOne) {
  Pair pair(false);
  pair.send("token");
  ASSERT_EQ(pair.read(), 5u);
  // Nothing says the socket is empty: the next read tries at once.
  pair.start_read();
  EXPECT_EQ(recv_calls.load(), 2);
  pair.send("more");
  EXPECT_EQ(pair.finish_read(), 4u);
}

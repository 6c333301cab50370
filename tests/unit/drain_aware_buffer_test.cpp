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

struct Pair {
  net::io_context io;
  tcp::socket reader{io};
  tcp::socket writer{io};

  explicit Pair(bool queued_bytes_reported = true) {
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    writer.connect(acceptor.local_endpoint());
    acceptor.accept(reader);
    if (queued_bytes_reported) chrysopedia::llm::report_queued_bytes(reader);
    writer.set_option(tcp::no_delay(true));
    watched_fd = reader.native_handle();
    recv_calls = 0;
  }
  ~Pair() { watched_fd = -1; }

  void send(const std::string& bytes) { net::write(writer, net::buffer(bytes)); }

  // Runs the loop until `done` (or a second passes): one turn of it may
  // only poll the sockets.
  void run_until(const bool& done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    io.restart();
    while (!done && std::chrono::steady_clock::now() < until) {
      io.run_one_for(until - std::chrono::steady_clock::now());
    }
  }

  // Starts a read and runs the loop until it completes.
  std::size_t read(std::array<char, 16>& space, error_code& ec) {
    bool done = false;
    std::size_t got = 0;
    start_read(space, ec, got, done);
    run_until(done);
    return got;
  }

  void start_read(std::array<char, 16>& space, error_code& ec, std::size_t& got, bool& done) {
    reader.async_read_some(DrainAwareBuffer{net::buffer(space)}, [&](error_code e, std::size_t n) {
      ec = e;
      got = n;
      done = true;
    });
  }
};

}  // namespace

TEST(DrainAwareBuffer, AfterAReadThatEmptiesTheSocketTheNextWaitsWithoutARecv) {
  Pair pair;
  std::array<char, 16> space{};
  error_code ec;
  pair.send("token one");
  ASSERT_EQ(pair.read(space, ec), 9u);
  ASSERT_FALSE(ec);
  EXPECT_EQ(recv_calls.load(), 1);

  // The socket is empty: starting the next read must not call recv (a
  // plain buffer's read tries one at once and it returns EAGAIN).
  bool done = false;
  std::size_t got = 0;
  pair.start_read(space, ec, got, done);
  EXPECT_EQ(recv_calls.load(), 1);
  pair.send("two");
  pair.run_until(done);
  ASSERT_TRUE(done);
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::string(space.data(), got), "two");
  EXPECT_EQ(recv_calls.load(), 2);
}

TEST(DrainAwareBuffer, BytesThatArriveAfterTheSocketWasEmptiedAreRead) {
  Pair pair;
  std::array<char, 16> space{};
  error_code ec;
  pair.send("first");
  ASSERT_EQ(pair.read(space, ec), 5u);
  // Sent before the next read starts: the reactor, not a recv at its start,
  // must find them.
  pair.send("second");
  ASSERT_EQ(pair.read(space, ec), 6u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::string(space.data(), 6), "second");
}

TEST(DrainAwareBuffer, AReadThatFillsItsBufferReadsAgainAtOnce) {
  Pair pair;
  std::array<char, 16> space{};
  error_code ec;
  pair.send(std::string(20, 'x'));
  ASSERT_EQ(pair.read(space, ec), 16u);
  EXPECT_EQ(recv_calls.load(), 1);
  // A burst: the rest is already there and the next read takes it with a
  // recv as it starts, before the loop waits on anything.
  bool done = false;
  std::size_t got = 0;
  pair.start_read(space, ec, got, done);
  EXPECT_EQ(recv_calls.load(), 2);
  pair.run_until(done);
  EXPECT_EQ(got, 4u);
}

TEST(DrainAwareBuffer, TheEndOfTheStreamIsReported) {
  Pair pair;
  std::array<char, 16> space{};
  error_code ec;
  pair.send("last");
  ASSERT_EQ(pair.read(space, ec), 4u);
  pair.writer.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(pair.read(space, ec), 0u);
  EXPECT_EQ(ec, net::error::eof);
}

TEST(DrainAwareBuffer, TheLastBytesAndTheEndArrivingTogetherAreBothRead) {
  Pair pair;
  std::array<char, 16> space{};
  error_code ec;
  // The end waits behind the bytes with no readiness event of its own: a
  // short read alone must not be taken for an empty socket.
  // The read waits first, so both reach it through one readiness event.
  bool done = false;
  std::size_t got = 0;
  pair.start_read(space, ec, got, done);
  pair.send("last");
  pair.writer.shutdown(tcp::socket::shutdown_send);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pair.run_until(done);
  ASSERT_EQ(got, 4u);
  ASSERT_FALSE(ec);
  EXPECT_EQ(pair.read(space, ec), 0u);
  EXPECT_EQ(ec, net::error::eof);
}

TEST(DrainAwareBuffer, WithoutTheKernelsCountAReadIsAnOrdinaryOne) {
  Pair pair(false);
  std::array<char, 16> space{};
  error_code ec;
  pair.send("token");
  ASSERT_EQ(pair.read(space, ec), 5u);
  // Nothing says the socket is empty: the next read tries at once.
  bool done = false;
  std::size_t got = 0;
  pair.start_read(space, ec, got, done);
  EXPECT_EQ(recv_calls.load(), 2);
  pair.send("more");
  pair.run_until(done);
  EXPECT_EQ(got, 4u);
}

// send_now: what the socket takes without waiting, none when it is full,
// an error (not a SIGPIPE) when the peer has gone.
#include "common/send_now.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

using chrysopedia::common::send_now;

namespace {

struct Pair {
  int fds[2] = {-1, -1};
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }
  ~Pair() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TEST(SendNow, SendsWhatFitsAtOnce) {
  Pair p;
  const auto sent = send_now(p.fds[0], "event: token\n");
  ASSERT_TRUE(sent);
  EXPECT_EQ(*sent, 13u);
  char buf[32];
  EXPECT_EQ(::read(p.fds[1], buf, sizeof buf), 13);
}

TEST(SendNow, AFullSocketTakesPartOrNothingAndNeverBlocks) {
  Pair p;
  const std::string block(1 << 20, 'x');
  std::size_t total = 0;
  for (int i = 0; i < 64; ++i) {
    const auto sent = send_now(p.fds[0], block);
    ASSERT_TRUE(sent);
    total += *sent;
    if (*sent == 0) break;
  }
  EXPECT_GT(total, 0u);
  EXPECT_LT(total, 64u * block.size()) << "nobody reads: the buffer must fill";
  EXPECT_EQ(send_now(p.fds[0], block), std::optional<std::size_t>(0));
}

TEST(SendNow, APeerThatHungUpIsAnErrorNotASignal) {
  Pair p;
  ::close(p.fds[1]);
  p.fds[1] = -1;
  const auto sent = send_now(p.fds[0], "data");
  EXPECT_FALSE(sent);
  EXPECT_EQ(errno, EPIPE);
}

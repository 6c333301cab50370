// Its own test program: it replaces getrandom(2) for the whole process, to
// see that ids take their bits from the operating system, each id fresh.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "chat/chat_service.hpp"
#include "common/os_random.hpp"

namespace {
std::atomic<bool> g_fake{false};
std::atomic<std::size_t> g_bytes{0};
}  // namespace

// The executable's definition is found before libc's, for our code and
// for the libraries it loads.
extern "C" ssize_t getrandom(void* buf, size_t n, unsigned flags) {
  if (g_fake) {
    std::memset(buf, 0xA5, n);
    g_bytes += n;
    return static_cast<ssize_t>(n);
  }
  return syscall(SYS_getrandom, buf, n, flags);
}

// Issue 15: conversation ids came from a seeded mt19937_64, whose state a
// client can recover from a few hundred ids it was given, and with it
// predict everyone else's. Each id must be 16 bytes fresh from the kernel:
// when the kernel's answer is fixed, so is the id.
TEST(OsRandom, EveryConversationIdIsSixteenBytesFromTheKernel) {
  g_fake = true;
  g_bytes = 0;
  const auto a = chrysopedia::chat::make_uuid4();
  const auto b = chrysopedia::chat::make_uuid4();
  g_fake = false;
  EXPECT_EQ(g_bytes.load(), 32u);
  EXPECT_EQ(a, "a5a5a5a5-a5a5-45a5-a5a5-a5a5a5a5a5a5");
  EXPECT_EQ(a, b);
}

TEST(OsRandom, FillsAnyLength) {
  std::array<unsigned char, 4096> big{};
  chrysopedia::common::os_random_bytes(big.data(), big.size());
  int zeros = 0;
  for (auto c : big) zeros += c == 0;
  EXPECT_LT(zeros, 64);
  chrysopedia::common::os_random_bytes(nullptr, 0);
}

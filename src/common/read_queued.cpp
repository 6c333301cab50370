#include "common/read_queued.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace chrysopedia::common {

bool ask_for_queued_count(int fd) {
#ifdef TCP_INQ
  const int on = 1;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_INQ, &on, sizeof on) == 0;
#else
  (void)fd;
  return false;
#endif
}

QueuedRead read_queued(int fd, void* data, std::size_t size, int flags) {
  iovec io{data, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  QueuedRead read{-1, -1};
  do {
    read.got = ::recvmsg(fd, &msg, flags);
  } while (read.got < 0 && errno == EINTR);
#ifdef TCP_INQ
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); read.got >= 0 && c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
      std::memcpy(&read.queued, CMSG_DATA(c), sizeof read.queued);
    }
  }
#endif
  return read;
}

}  // namespace chrysopedia::common

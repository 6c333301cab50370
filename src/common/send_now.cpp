#include "common/send_now.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace chrysopedia::common {

std::optional<std::size_t> send_now(int fd, std::string_view bytes) {
  for (;;) {
    // MSG_NOSIGNAL: a peer that hung up is an error here, not a SIGPIPE.
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return std::nullopt;
  }
}

}  // namespace chrysopedia::common

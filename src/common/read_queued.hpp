#pragma once

#include <sys/types.h>

#include <cstddef>

namespace chrysopedia::common {

/// What a TCP read returned and what it left: `got` as recv(2) returns it
/// (-1 with errno set on an error), `queued` the bytes still waiting, more
/// than 0 also while the end of the stream waits behind them (the kernel's
/// TCP_INQ count), or -1 when the kernel did not say (the socket was not
/// asked, or cannot tell).
struct QueuedRead {
  ssize_t got;
  int queued;
};

/// Asks a TCP socket to report, with each read, what the read left queued;
/// false when the kernel cannot.
bool ask_for_queued_count(int fd);

/// One read (interrupted calls retried) with what it left queued.
QueuedRead read_queued(int fd, void* data, std::size_t size, int flags);

}  // namespace chrysopedia::common

// The least a relay of paced streams can cost on this machine: per token one
// epoll wake-up, one read from the upstream's socket (TCP_INQ, so no read
// that finds nothing) and one write to the client's, on TCP loopback both
// sides, in C with no framing, parsing or bookkeeping. bench/paced.sh runs
// it beside the service so the service's CPU a token can be read against
// what the kernel alone charges for the same three calls.
//   relay_floor STREAMS TOKENS GAP_MS [epoll|io_uring]
// io_uring: the same relay with no system call a token of its own: each
// wake-up is one io_uring_enter that submits the sends and the next
// receives and waits for what arrives (DEFER_TASKRUN, so the receives run
// in that call rather than interrupting the relay) — the other floor the
// kernel offers, for the question whether a relay on it could go lower.
// Prints: client_gap_p50_ms=A client_gap_p99_ms=B (the clients' side), then
// relayed=N cpu_seconds=S us_per_token=U wakeups=W reads=R (the relay's;
// N in tokens, from the bytes relayed)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef CHRYSOPEDIA_HAVE_LIBURING
#include <liburing.h>
#endif

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>
#include <vector>

#include "common/read_queued.hpp"

namespace {

// One token as an OpenAI-style server frames it.
constexpr char kEvent[] =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" word\"}}]}\n\n";

int listening_socket(int& port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 4096) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  port = ntohs(a.sin_port);
  return s;
}

void no_delay(int s) {
  const int on = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

int connected_socket(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  no_delay(s);
  return s;
}

std::vector<int> connect_all(int port, int n) {
  std::vector<int> sockets;
  for (int i = 0; i < n; ++i) sockets.push_back(connected_socket(port));
  return sockets;
}

std::vector<int> accept_all(int listener, int n) {
  std::vector<int> sockets;
  for (int i = 0; i < n; ++i) {
    sockets.push_back(::accept(listener, nullptr, nullptr));
    if (sockets.back() < 0) {
      std::perror("accept");
      std::exit(1);
    }
    no_delay(sockets.back());
  }
  return sockets;
}

timespec at_ms(timespec start, double ms) {
  const long ns = static_cast<long>(ms * 1e6);
  start.tv_sec += ns / 1000000000;
  start.tv_nsec += ns % 1000000000;
  if (start.tv_nsec >= 1000000000) {
    ++start.tv_sec;
    start.tv_nsec -= 1000000000;
  }
  return start;
}

// The model: stream i writes its tokens gap ms apart, the streams spread
// evenly over one gap.
[[noreturn]] void write_tokens(const std::vector<int>& sockets, int tokens, int gap_ms) {
  timespec start;
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  const int n = static_cast<int>(sockets.size());
  for (long k = 0; k < static_cast<long>(n) * tokens; ++k) {
    const int i = static_cast<int>(k % n);
    const timespec when =
        at_ms(start, static_cast<double>(k / n) * gap_ms + double(i) * gap_ms / n);
    ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, nullptr);
    if (::send(sockets[i], kEvent, sizeof kEvent - 1, MSG_NOSIGNAL) < 0) std::_Exit(1);
  }
  for (int s : sockets) ::shutdown(s, SHUT_WR);
  std::_Exit(0);
}

double now_ms() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

// The clients: read until every stream ends, and report the gaps between a
// stream's arrivals (its first excluded) as a client of the relay sees them.
[[noreturn]] void read_all(const std::vector<int>& sockets) {
  const int ep = ::epoll_create1(0);
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, sockets[i], &e);
  }
  std::vector<double> last(sockets.size(), 0);
  std::vector<double> gaps;
  std::size_t open = sockets.size();
  char buf[8192];
  epoll_event events[256];
  while (open > 0) {
    const int k = ::epoll_wait(ep, events, 256, -1);
    const double at = now_ms();
    for (int j = 0; j < k; ++j) {
      const std::size_t i = events[j].data.u64;
      if (::recv(sockets[i], buf, sizeof buf, 0) <= 0) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, sockets[i], nullptr);
        --open;
        continue;
      }
      if (last[i] > 0) gaps.push_back(at - last[i]);
      last[i] = at;
    }
  }
  std::sort(gaps.begin(), gaps.end());
  const auto at_rank = [&](double q) {
    return gaps.empty() ? 0.0
                        : gaps[std::min(gaps.size() - 1, std::size_t(q * double(gaps.size())))];
  };
  std::printf("client_gap_p50_ms=%.1f client_gap_p99_ms=%.1f\n", at_rank(0.5), at_rank(0.99));
  std::fflush(stdout);
  std::_Exit(0);
}

// One read; sets `drained` when the kernel says nothing is left queued.
ssize_t read_token(int s, char* buf, std::size_t size, bool& drained) {
  const auto read = chrysopedia::common::read_queued(s, buf, size, 0);
  drained = read.got < 0 || read.queued == 0;
  return read.got;
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Relayed {
  long bytes = 0;  // a read may hold more than one token when the relay falls behind
  long reads = 0;
  long wakeups = 0;
};

Relayed relay_epoll(const std::vector<int>& upstream, const std::vector<int>& clients, int go) {
  const int n = static_cast<int>(upstream.size());
  const int ep = ::epoll_create1(0);
  for (int i = 0; i < n; ++i) {
    const int s = upstream[i];
    ::fcntl(s, F_SETFL, O_NONBLOCK);
    chrysopedia::common::ask_for_queued_count(s);
    epoll_event e{};
    e.events = EPOLLIN | EPOLLET;
    e.data.u32 = static_cast<uint32_t>(i);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
  }
  if (::write(go, "g", 1) != 1) std::exit(1);
  Relayed out;
  int open = n;
  char buf[1024];
  epoll_event events[256];
  while (open > 0) {
    const int k = ::epoll_wait(ep, events, 256, -1);
    ++out.wakeups;
    for (int j = 0; j < k; ++j) {
      const int i = static_cast<int>(events[j].data.u32);
      for (bool drained = false; !drained;) {
        const ssize_t got = read_token(upstream[i], buf, sizeof buf, drained);
        if (got > 0) {
          ::send(clients[i], buf, static_cast<std::size_t>(got), MSG_NOSIGNAL);
          out.bytes += got;
          ++out.reads;
        } else if (got == 0) {
          ::close(clients[i]);
          --open;
          drained = true;
        }
      }
    }
  }
  return out;
}

#ifdef CHRYSOPEDIA_HAVE_LIBURING
constexpr bool kHaveIoUring = true;

Relayed relay_io_uring(const std::vector<int>& upstream, const std::vector<int>& clients, int go) {
  const int n = static_cast<int>(upstream.size());
  io_uring ring;
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  unsigned entries = 8;
  while (entries < 4U * static_cast<unsigned>(n)) entries *= 2;
  if (const int r = io_uring_queue_init_params(entries, &ring, &params); r < 0) {
    std::fprintf(stderr, "io_uring: %s\n", std::strerror(-r));
    std::exit(1);
  }
  constexpr std::size_t kBuf = 1024;
  constexpr std::uint64_t kSend = 1ULL << 40;  // a send's completion (only a failed one comes)
  std::vector<char> bufs(static_cast<std::size_t>(n) * kBuf);
  const auto receive = [&](int i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, upstream[i], &bufs[static_cast<std::size_t>(i) * kBuf], kBuf, 0);
    io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(i));
  };
  for (int i = 0; i < n; ++i) receive(i);
  if (::write(go, "g", 1) != 1) std::exit(1);
  Relayed out;
  int open = n;
  while (open > 0) {
    io_uring_submit_and_wait(&ring, 1);
    ++out.wakeups;
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const auto data = io_uring_cqe_get_data64(cqe);
      if (data & kSend) continue;
      const int i = static_cast<int>(data);
      if (cqe->res > 0) {
        // The send, then (linked: after it, so the buffer is free) the
        // next receive into the same buffer.
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_send(sqe, clients[i], &bufs[static_cast<std::size_t>(i) * kBuf],
                           static_cast<std::size_t>(cqe->res), MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, kSend | static_cast<std::uint64_t>(i));
        sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
        receive(i);
        out.bytes += cqe->res;
        ++out.reads;
      } else {
        ::close(clients[i]);
        --open;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  return out;
}
#else
constexpr bool kHaveIoUring = false;

// Never called: main turns io_uring away first when it was built without.
Relayed relay_io_uring(const std::vector<int>&, const std::vector<int>&, int) {
  std::abort();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::string_view how = argc == 5 ? argv[4] : "epoll";
  if ((argc != 4 && argc != 5) || (how != "epoll" && how != "io_uring")) {
    std::fprintf(stderr, "usage: relay_floor STREAMS TOKENS GAP_MS [epoll|io_uring]\n");
    return 2;
  }
  if (how == "io_uring" && !kHaveIoUring) {
    std::fprintf(stderr, "relay_floor: built without liburing (liburing-dev)\n");
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const int tokens = std::atoi(argv[2]);
  const int gap_ms = std::atoi(argv[3]);
  int up_port = 0;
  int down_port = 0;
  const int up_listener = listening_socket(up_port);
  const int down_listener = listening_socket(down_port);
  // Each side connects from its own process, so none holds more than two
  // sockets a stream (a container's descriptor limit is a process's); the
  // model starts when the relay is ready.
  int go[2];
  if (::pipe(go) != 0) return 1;
  const pid_t writer = ::fork();
  if (writer == 0) {
    const auto model = connect_all(up_port, n);
    char start = 0;
    if (::read(go[0], &start, 1) != 1) std::_Exit(1);
    write_tokens(model, tokens, gap_ms);
  }
  const pid_t reader = ::fork();
  if (reader == 0) read_all(connect_all(down_port, n));
  const auto upstream = accept_all(up_listener, n);
  const auto clients = accept_all(down_listener, n);

  const double cpu0 = cpu_seconds();
  const Relayed relayed = how == "io_uring" ? relay_io_uring(upstream, clients, go[1])
                                            : relay_epoll(upstream, clients, go[1]);
  const double cpu = cpu_seconds() - cpu0;
  ::waitpid(writer, nullptr, 0);
  ::waitpid(reader, nullptr, 0);
  std::printf("relayed=%ld cpu_seconds=%.3f us_per_token=%.1f wakeups=%ld reads=%ld\n",
              relayed.bytes / static_cast<long>(sizeof kEvent - 1), cpu,
              1e6 * cpu / (double(n) * tokens), relayed.wakeups, relayed.reads);
  return 0;
}

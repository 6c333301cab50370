#include <csignal>

#include "app/cli.hpp"

int main(int argc, char** argv) {
  // A write to a socket its peer has closed must be an error, not the end of
  // the process: Asio, libcurl and libpq ask for that on each send, but
  // hiredis (0.14) writes with plain write(), and a Redis that drops our
  // connection would otherwise take every stream down with it.
  std::signal(SIGPIPE, SIG_IGN);
  return chrysopedia::app::run_cli(argc, argv);
}

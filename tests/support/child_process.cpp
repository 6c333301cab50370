#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <stdexcept>
#include <thread>

extern char** environ;

namespace chrysopedia::test {

using Clock = std::chrono::steady_clock;

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test killed by its timeout must not leave its servers running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    for (const auto& [k, v] : env) {
      if (v == kUnset) {
        ::unsetenv(k.c_str());
      } else {
        ::setenv(k.c_str(), v.c_str(), 1);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  err_fd_ = fds[0];
  reader_ = std::thread([this] { read_all(); });
}

ChildProcess::~ChildProcess() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  stop_reading_ = true;
  if (reader_.joinable()) reader_.join();
  if (err_fd_ >= 0) ::close(err_fd_);
}

void ChildProcess::read_all() {
  char buf[65536];
  // Polls with a timeout rather than blocking in read: a grandchild may
  // hold the pipe open after the child is gone.
  for (;;) {
    // Once told to stop, it still takes what is already in the pipe.
    const bool last = stop_reading_;
    pollfd p{err_fd_, POLLIN, 0};
    if (::poll(&p, 1, last ? 0 : 100) <= 0) {
      if (last) return;
      continue;
    }
    const auto n = ::read(err_fd_, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // end of file: every writer has gone
    }
    {
      std::lock_guard lock(mutex_);
      captured_.append(buf, static_cast<std::size_t>(n));
    }
    grew_.notify_all();
  }
}

void ChildProcess::wait_for_output(std::size_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  grew_.wait_for(lock, timeout, [&] { return captured_.size() > seen; });
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& needle,
                                                       std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::size_t size;
    {
      std::lock_guard lock(mutex_);
      std::size_t nl;
      while ((nl = captured_.find('\n', scanned_)) != std::string::npos) {
        std::string line = captured_.substr(scanned_, nl - scanned_);
        scanned_ = nl + 1;
        if (line.find(needle) != std::string::npos) return line;
      }
      size = captured_.size();
    }
    if (Clock::now() >= deadline) return std::nullopt;
    wait_for_output(size, std::chrono::milliseconds(50));
  }
}

std::string ChildProcess::output() {
  // What the child wrote just before this call may still be in the pipe.
  std::size_t size;
  {
    std::lock_guard lock(mutex_);
    size = captured_.size();
  }
  wait_for_output(size, std::chrono::milliseconds(50));
  std::lock_guard lock(mutex_);
  return captured_;
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      // Its last words: the reader stops at end of file (or a grandchild
      // holding the pipe leaves it to the destructor).
      stop_reading_ = true;
      if (reader_.joinable()) reader_.join();
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

}  // namespace chrysopedia::test

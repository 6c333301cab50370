#pragma once

#include <sys/types.h>

#include <cstdint>

namespace chrysopedia::test {

/// The process's resident set now (VmRSS) and at its peak so far (VmHWM),
/// in KiB, from /proc/PID/status; -1 if it cannot be read.
long resident_kib(pid_t pid);
/// Whether the process ignores signal `sig` (its SigIgn mask).
bool ignores_signal(pid_t pid, int sig);
long peak_resident_kib(pid_t pid);

/// Minor page faults the process has taken (/proc/PID/stat); -1 if it
/// cannot be read.
long minor_page_faults(pid_t pid);

/// How many file descriptors the process has open (/proc/PID/fd).
int open_fds(pid_t pid);

/// GET /healthz on a fresh connection answers 200.
bool healthy(std::uint16_t port);

}  // namespace chrysopedia::test

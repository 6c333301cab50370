#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace chrysopedia::common {

/// Sends what a connected socket takes without waiting: the count of bytes
/// it took (0 when its buffer is full), or nullopt on an error, which errno
/// names. A stream's small writes almost always fit: sent this way they
/// cost one syscall, where an asynchronous write also posts a completion
/// (and, with a timeout, arms and cancels a timer) for each.
std::optional<std::size_t> send_now(int fd, std::string_view bytes);

}  // namespace chrysopedia::common

#include "common/os_random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace chrysopedia::common {

void os_random_bytes(void* out, std::size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    // Blocks only before the kernel's pool is first seeded, at boot.
    const auto got = ::getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      // Never fall back to something weaker: an id nobody can trust is
      // worse than a request that fails.
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

std::string random_uuid4() {
  boost::uuids::uuid id;
  os_random_bytes(id.data, id.size());
  // Boost's generators would draw the bits themselves; the version and
  // variant are set by hand on ours.
  id.data[6] = static_cast<std::uint8_t>((id.data[6] & 0x0F) | 0x40);  // version 4
  id.data[8] = static_cast<std::uint8_t>((id.data[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return boost::uuids::to_string(id);
}

}  // namespace chrysopedia::common

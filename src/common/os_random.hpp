#pragma once

#include <cstddef>
#include <string>

namespace chrysopedia::common {

/// Fills `out` with `n` bytes from the operating system's CSPRNG
/// (getrandom(2)). Anything a client must not be able to guess (ids that
/// grant access to a conversation or a stream) comes from here, never from
/// a seeded generator: a few hundred outputs of mt19937 give away its
/// state, and with it every id it will make next.
void os_random_bytes(void* out, std::size_t n);

/// A version 4 UUID of 122 bits from os_random_bytes, in the usual
/// lower-case 8-4-4-4-12 form.
std::string random_uuid4();

}  // namespace chrysopedia::common

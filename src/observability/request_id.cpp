#include "chrysopedia/observability/request_id.hpp"

#include <algorithm>
#include <cctype>
#include <random>

#include "common/hex.hpp"

namespace chrysopedia::observability {

std::string make_request_id() {
  // One generator per thread: no lock on the hot path.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t v = rng();
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(v >> (56 - 8 * i));
  return common::to_hex(bytes, sizeof bytes);
}

bool acceptable_request_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace chrysopedia::observability

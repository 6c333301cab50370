#include "chrysopedia/observability/request_id.hpp"

#include <algorithm>
#include <cctype>
#include <random>

namespace chrysopedia::observability {

std::string make_request_id() {
  // One generator per thread: no lock on the hot path.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 0xf];
  return out;
}

bool acceptable_request_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace chrysopedia::observability

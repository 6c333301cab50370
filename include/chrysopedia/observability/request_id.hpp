#pragma once

#include <string>
#include <string_view>

namespace chrysopedia::observability {

/// A fresh request id: 16 lower-case hex digits.
std::string make_request_id();

/// Whether a client-supplied X-Request-Id is safe to adopt and log:
/// 1–64 characters of [A-Za-z0-9._-].
bool acceptable_request_id(std::string_view id);

}  // namespace chrysopedia::observability

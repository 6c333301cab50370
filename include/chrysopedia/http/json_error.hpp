#pragma once

#include <string_view>

#include "chrysopedia/http/request.hpp"

namespace chrysopedia::http {

/// `{"error": {"code", "message", "type", "param": null}}` with the given
/// status: SPEC §1's error, and OpenAI's (`type` from the status) for §10.
Response json_error(int status, std::string_view code, std::string_view message);

}  // namespace chrysopedia::http

#pragma once

#include <string_view>

#include "chrysopedia/http/request.hpp"

namespace chrysopedia::http {

/// `{"error": {"code": code, "message": message}}` with the given status.
Response json_error(int status, std::string_view code, std::string_view message);

}  // namespace chrysopedia::http

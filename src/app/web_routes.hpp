#pragma once

#include "chrysopedia/http/router.hpp"

namespace chrysopedia::app {

/// `GET /` and its script and style sheet: the chat page (SPEC §6), built
/// into the binary from web/.
void add_web_routes(http::Router& router);

}  // namespace chrysopedia::app

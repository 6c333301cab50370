#pragma once

#include "chrysopedia/http/router.hpp"

namespace chrysopedia::app {

/// `GET /healthz`: 200 `{"status":"ok"}` while the process serves.
void add_health_routes(http::Router& router);

}  // namespace chrysopedia::app

#pragma once

#include "chrysopedia/http/router.hpp"
#include "chrysopedia/observability/metrics.hpp"

namespace chrysopedia::app {

/// `GET /healthz`: 200 `{"status":"ok"}` while the process serves.
void add_health_routes(http::Router& router);

/// `GET /metrics`: the registry in the Prometheus text format 0.0.4.
void add_metrics_route(http::Router& router, const observability::Registry& registry);

}  // namespace chrysopedia::app

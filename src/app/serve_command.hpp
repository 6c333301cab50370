#pragma once

#include "chrysopedia/config/settings.hpp"

namespace chrysopedia::app {

/// Serves until SIGINT or SIGTERM, then drains and returns 0.
int serve(const config::Settings& settings);

}  // namespace chrysopedia::app

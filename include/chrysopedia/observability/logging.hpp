#pragma once

#include <string>

namespace chrysopedia::observability {

/// Installs the process-wide logger on stderr: `format` is "text" (one
/// human-readable line per event) or "json" (one JSON object per line, with
/// the event name — the message's first word — as its own field).
void setup_logging(const std::string& level, const std::string& format);

}  // namespace chrysopedia::observability

#pragma once

#include <optional>
#include <string>

#include "chrysopedia/config/settings.hpp"

namespace chrysopedia::app {

/// `chrysopedia-chat migrate`: applies the schema; exit code.
int migrate_command(const config::Settings& settings);

/// `chrysopedia-chat import FILE.jsonl`: exit code (1 with every bad line
/// listed on stderr when the file has any, and nothing imported).
int import_command(const config::Settings& settings, const std::string& path);

/// `chrysopedia-chat search "QUERY" [--creator C]`: prints the tier and the
/// numbered hits.
int search_command(const config::Settings& settings, const std::string& query,
                   const std::optional<std::string>& creator);

}  // namespace chrysopedia::app

#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "chrysopedia/config/settings.hpp"

namespace chrysopedia::config {

/// A configuration problem, phrased as one line that names the variable.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Looks a variable up; returns nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
EnvLookup process_environment();

/// Builds Settings from defaults, then the JSON object in `config_file` (if
/// given; keys are the variable names), then the environment, which wins.
/// Throws ConfigError naming the first bad variable.
Settings load_settings(const EnvLookup& env, const std::optional<std::string>& config_file);

}  // namespace chrysopedia::config

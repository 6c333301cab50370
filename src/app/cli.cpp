#include "app/cli.hpp"

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/serve_command.hpp"
#include "chrysopedia/config/settings_loader.hpp"
#include "chrysopedia/observability/logging.hpp"

namespace chrysopedia::app {

namespace {

constexpr const char* kUsage =
    "usage: chrysopedia-chat [serve] [--config FILE.json]\n"
    "\n"
    "  serve            answer chat requests over HTTP (the default)\n"
    "\n"
    "Settings come from the environment (see README); --config names a JSON\n"
    "object of the same variables that supplies defaults.\n";

}  // namespace

int run_cli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::optional<std::string> config_file;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--config") {
      if (i + 1 >= args.size()) {
        std::cerr << "chrysopedia-chat: --config needs a file name\n";
        return 2;
      }
      config_file = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_file = a.substr(9);
    } else if (a.rfind("-", 0) == 0) {
      std::cerr << "chrysopedia-chat: unknown option " << a << "\n" << kUsage;
      return 2;
    } else {
      positional.push_back(a);
    }
  }
  const std::string command = positional.empty() ? "serve" : positional.front();
  if (command != "serve" || positional.size() > 1) {
    std::cerr << "chrysopedia-chat: unknown command \"" << command << "\"\n" << kUsage;
    return 2;
  }

  config::Settings settings;
  try {
    settings = config::load_settings(config::process_environment(), config_file);
  } catch (const config::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  observability::setup_logging(settings.log_level, settings.log_format);
  return serve(settings);
}

}  // namespace chrysopedia::app

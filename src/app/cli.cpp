#include "app/cli.hpp"

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/embed_command.hpp"
#include "app/search_commands.hpp"
#include "app/serve_command.hpp"
#include "chrysopedia/config/settings_loader.hpp"
#include "chrysopedia/observability/logging.hpp"

namespace chrysopedia::app {

namespace {

constexpr const char* kUsage =
    "usage: chrysopedia-chat [serve] [--config FILE.json]\n"
    "       chrysopedia-chat migrate [--config FILE.json]\n"
    "       chrysopedia-chat import FILE.jsonl [--config FILE.json]\n"
    "       chrysopedia-chat embed [--rebuild] [--config FILE.json]\n"
    "       chrysopedia-chat search \"QUERY\" [--creator C] [--config FILE.json]\n"
    "\n"
    "  serve    answer chat requests over HTTP (the default)\n"
    "  migrate  create or update the database schema\n"
    "  import   upsert technique pages from JSON Lines, all or nothing\n"
    "  embed    embed the documents that have no vector yet (EMBEDDINGS_API_URL);\n"
    "           --rebuild drops every vector first (after a change of model)\n"
    "  search   show what retrieval finds for a query: the tier and the hits\n"
    "\n"
    "Settings come from the environment (see README); --config names a JSON\n"
    "object of the same variables that supplies defaults.\n";

int usage_error(const std::string& message) {
  std::cerr << "chrysopedia-chat: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::optional<std::string> config_file;
  std::optional<std::string> creator;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--config" || a == "--creator") {
      if (i + 1 >= args.size()) return usage_error(a + " needs a value");
      (a == "--config" ? config_file : creator) = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_file = a.substr(9);
    } else if (a.rfind("--creator=", 0) == 0) {
      creator = a.substr(10);
    } else if (a.size() > 1 && a[0] == '-' && positional.size() != 1) {
      return usage_error("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  const std::string command = positional.empty() ? "serve" : positional.front();
  const std::size_t operands = positional.empty() ? 0 : positional.size() - 1;
  const bool known = command == "serve" || command == "migrate" || command == "import" ||
                     command == "search" || command == "embed";
  if (!known) return usage_error("unknown command \"" + command + "\"");
  if ((command == "serve" || command == "migrate") && operands != 0) {
    return usage_error(command + " takes no arguments");
  }
  if (command == "import" && operands != 1) return usage_error("import needs one FILE.jsonl");
  if (command == "search" && operands != 1) return usage_error("search needs one \"QUERY\"");
  if (command == "embed" && (operands > 1 || (operands == 1 && positional[1] != "--rebuild"))) {
    return usage_error("embed takes only --rebuild");
  }
  if (creator && command != "search") return usage_error("--creator goes with search");

  config::Settings settings;
  try {
    settings = config::load_settings(config::process_environment(), config_file);
  } catch (const config::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  observability::setup_logging(settings.log_level, settings.log_format);
  if (command == "migrate") return migrate_command(settings);
  if (command == "import") return import_command(settings, positional[1]);
  if (command == "search") return search_command(settings, positional[1], creator);
  if (command == "embed") return embed_command(settings, operands == 1);
  return serve(settings);
}

}  // namespace chrysopedia::app

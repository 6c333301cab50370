// The example settings in config/ load as they are, name every setting the
// README documents, and say the defaults truly: an example that drifts from
// the code fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "chrysopedia/config/settings_loader.hpp"

using namespace chrysopedia::config;

namespace {

std::string read(const std::string& relative) {
  std::ifstream in(std::string(CHRYSOPEDIA_SOURCE_DIR) + "/" + relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The variables of the README's configuration table.
std::set<std::string> documented() {
  std::set<std::string> names;
  const std::string readme = read("README.md");
  const auto start = readme.find("## Configuration");
  const auto end = readme.find("\n## ", start + 1);
  std::istringstream table(readme.substr(start, end - start));
  const std::regex name("`([A-Z][A-Z0-9_]+)`");
  for (std::string line; std::getline(table, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    const std::string first_cell = line.substr(0, line.find(" | "));
    for (std::sregex_iterator it(first_cell.begin(), first_cell.end(), name), e; it != e; ++it) {
      names.insert((*it)[1]);
    }
  }
  return names;
}

// NAME=value lines of an env file; commented ones (`# NAME=value`, the
// defaults) only when `with_defaults`.
std::map<std::string, std::string> env_file(const std::string& text, bool with_defaults) {
  std::map<std::string, std::string> vars;
  const std::regex line_re(R"(^(# )?([A-Z][A-Z0-9_]+)=(.*)$)");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, line_re)) continue;
    if (m[1].matched && !with_defaults) continue;
    vars[m[2]] = m[3];
  }
  return vars;
}

EnvLookup lookup(const std::map<std::string, std::string>& vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST(ConfigExamples, TheReadmeTableIsFound) {
  const auto names = documented();
  EXPECT_GT(names.size(), 40u);
  EXPECT_EQ(names.count("CHAT_RATE_LIMIT_PER_MINUTE"), 1u);
}

TEST(ConfigExamples, TheJsonExampleLoadsAndHoldsEveryDefault) {
  const std::string path = std::string(CHRYSOPEDIA_SOURCE_DIR) + "/config/chrysopedia.example.json";
  const Settings loaded = load_settings(lookup({}), path);
  EXPECT_EQ(loaded.redacted_json(), Settings{}.redacted_json())
      << "a value in the example is not the default";
  for (const auto& name : documented()) {
    EXPECT_NE(read("config/chrysopedia.example.json").find("\"" + name + "\""), std::string::npos)
        << name << " is documented but not in the JSON example";
  }
}

TEST(ConfigExamples, TheEnvExampleLoadsAndItsCommentedLinesAreTheDefaults) {
  const std::string text = read("config/example.env");
  // As shipped: what it sets loads.
  const Settings set = load_settings(lookup(env_file(text, false)), std::nullopt);
  EXPECT_EQ(set.llm_model, "llama3.2");
  // Every commented line, uncommented, is the default.
  auto defaults = env_file(text, true);
  for (const auto& [name, value] : env_file(text, false)) defaults.erase(name);
  EXPECT_EQ(load_settings(lookup(defaults), std::nullopt).redacted_json(),
            Settings{}.redacted_json());
  const auto all = env_file(text, true);
  for (const auto& name : documented()) {
    EXPECT_EQ(all.count(name), 1u) << name << " is documented but not in config/example.env";
  }
}

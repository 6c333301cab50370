#include "support/service_process.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace chrysopedia::test {

using namespace std::chrono_literals;

ServiceProcess::ServiceProcess(std::map<std::string, std::string> env) {
  env.emplace("HOST", "127.0.0.1");
  env.emplace("PORT", "0");
  env.emplace("WORKERS", "2");
  env.emplace("LOG_FORMAT", "json");
  env.emplace("REDIS_URL", "");
  env.emplace("LLM_API_URL", "");
  // Tests make many requests from one address in a moment; the limits'
  // own tests turn them on.
  env.emplace("CHAT_RATE_LIMIT_PER_MINUTE", "0");
  process_ =
      std::make_unique<ChildProcess>(std::vector<std::string>{CHRYSOPEDIA_BINARY, "serve"}, env);
  const auto line = process_->wait_for_line("\"listening", 15s);
  if (!line) throw std::runtime_error("the service did not start: " + process_->output());
  const auto msg = nlohmann::json::parse(*line)["msg"].get<std::string>();
  port_ = static_cast<std::uint16_t>(std::stoi(msg.substr(msg.find("port=") + 5)));
}

}  // namespace chrysopedia::test

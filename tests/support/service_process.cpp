#include "support/service_process.hpp"

#include <stdexcept>

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
  // The same words in either log format (a test may ask for text).
  const auto line = process_->wait_for_line("listening host=", 15s);
  if (!line) throw std::runtime_error("the service did not start: " + process_->output());
  port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->find(" port=") + 6)));
}

std::string ServiceProcess::post_mortem() {
  const auto status = process_->wait_exit(std::chrono::milliseconds(100));
  const std::string output = process_->output();
  constexpr std::size_t kTail = 4000;
  return (status ? "the service exited with status " + std::to_string(*status)
                 : std::string("the service still runs")) +
         "; its last output:\n" +
         (output.size() > kTail ? output.substr(output.size() - kTail) : output);
}

}  // namespace chrysopedia::test

// The POST /v1/chat/completions body: any bytes either become a request
// whose question follows the chat's rules and whose history holds only
// user and assistant turns, or an OpenAI-shaped error (400/404/415) whose
// body is JSON with a message; nothing else escapes.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "openai/completion_request.hpp"

using chrysopedia::fuzz::utf8_chars;
using chrysopedia::fuzz::valid_utf8;
using chrysopedia::openai::CompletionAsk;
using chrysopedia::openai::OpenAiError;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto result = chrysopedia::openai::parse_completion_request("application/json", body);
  if (const auto* e = std::get_if<OpenAiError>(&result)) {
    FUZZ_CHECK(e->status == 400 || e->status == 404 || e->status == 415);
    FUZZ_CHECK(!e->message.empty());
    const auto doc = nlohmann::json::parse(e->body());
    FUZZ_CHECK(doc["error"]["message"].is_string());
    FUZZ_CHECK(doc["error"]["type"] == "invalid_request_error");
    return 0;
  }
  const auto& ask = std::get<CompletionAsk>(result);
  FUZZ_CHECK(valid_utf8(ask.question));
  const auto chars = utf8_chars(ask.question);
  FUZZ_CHECK(chars >= 1 && chars <= 2000);
  for (unsigned char c : ask.question) FUZZ_CHECK(c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
  for (const auto& m : ask.history) FUZZ_CHECK(m.role == "user" || m.role == "assistant");
  if (ask.temperature) FUZZ_CHECK(*ask.temperature >= 0 && *ask.temperature <= 2);
  if (ask.max_tokens) FUZZ_CHECK(*ask.max_tokens >= 1);
  FUZZ_CHECK(ask.stop.size() <= 4);
  return 0;
}

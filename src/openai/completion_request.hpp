#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chrysopedia/history/history_store.hpp"

namespace chrysopedia::openai {

/// What a `POST /v1/chat/completions` body asks (SPEC §10).
struct CompletionAsk {
  std::string question;                   ///< the last user message, taken as §1 takes a query
  std::vector<history::Message> history;  ///< the user/assistant messages before it
  std::vector<std::string> system;        ///< the caller's system/developer messages, in order
  std::optional<std::string> creator;     ///< §1's filter, an extra top-level field
  bool stream = false;
  bool include_usage = false;  ///< stream_options.include_usage
  std::optional<double> temperature;
  std::optional<int> max_tokens;  ///< max_tokens or max_completion_tokens
  std::vector<std::string> stop;
  std::optional<std::string> user;
};

/// OpenAI's error object: `{"error": {"message", "type", "param", "code"}}`.
struct OpenAiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  ///< the field at fault ("" when none: null)
  std::string code;   ///< ("" when none: null)
  std::string body() const;
};

/// Validates the Content-Type and the body; the error names the field.
std::variant<CompletionAsk, OpenAiError> parse_completion_request(
    std::optional<std::string_view> content_type, std::string_view body);

}  // namespace chrysopedia::openai

#pragma once

#include <chrono>
#include <string>

#include "chrysopedia/llm/llm_client.hpp"
#include "llm/curl_multi.hpp"

namespace chrysopedia::llm {

struct OpenAiOptions {
  std::string url;  ///< base, e.g. https://api.openai.com/v1 (…/chat/completions is added)
  std::string api_key;
  std::string fallback_url;  ///< tried when the primary fails before any token; may be empty
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};    ///< longest silence between bytes
  std::chrono::milliseconds total_timeout{600'000};  ///< whole completion
  int max_retries = 2;                               ///< before the first token only
  std::chrono::milliseconds retry_base{500};
  std::size_t max_line = 1 << 20;
};

/// LlmClient for any OpenAI-compatible server (OpenAI, Ollama, vLLM,
/// llama.cpp), streaming over libcurl on the caller's event loop. One per
/// event loop: it shares that loop's CurlMulti, and so its connections.
class OpenAiStreamClient final : public LlmClient {
 public:
  OpenAiStreamClient(CurlMulti& multi, OpenAiOptions options);
  std::unique_ptr<CompletionStream> start(const CompletionRequest& request) override;

 private:
  CurlMulti& multi_;
  OpenAiOptions options_;
};

/// The JSON body of a streaming chat-completion request (SPEC §4).
std::string completion_body(const CompletionRequest& request);

}  // namespace chrysopedia::llm

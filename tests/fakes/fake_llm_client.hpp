#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chrysopedia/llm/llm_client.hpp"

namespace chrysopedia::test {

/// An LlmClient that streams the deltas the test set, then ends, or fails
/// after `fail_after` of them; keeps every request it was given.
class FakeLlmClient final : public llm::LlmClient {
 public:
  std::vector<std::string> deltas{"An ", "answer ", "[1]."};
  std::optional<std::size_t> fail_after;  ///< deltas sent before an LlmError
  std::optional<llm::Usage> usage = llm::Usage{120, 3};
  std::vector<llm::CompletionRequest> requests;
  std::function<void()> on_start;  ///< called as each request is started

  std::unique_ptr<llm::CompletionStream> start(const llm::CompletionRequest& request) override {
    requests.push_back(request);
    if (on_start) on_start();
    return std::make_unique<Stream>(*this);
  }

 private:
  class Stream final : public llm::CompletionStream {
   public:
    explicit Stream(const FakeLlmClient& script) : script_(script) {}
    boost::asio::awaitable<std::optional<std::string>> next() override {
      if (script_.fail_after && sent_ == *script_.fail_after) {
        throw llm::LlmError(llm::LlmError::Kind::http_status, "upstream answered 500", 500);
      }
      if (sent_ == script_.deltas.size()) {
        result_.usage = script_.usage;
        result_.finish_reason = "stop";
        co_return std::nullopt;
      }
      const std::string& delta = script_.deltas[sent_++];
      result_.text += delta;
      co_return delta;
    }
    const llm::CompletionResult& result() const override { return result_; }

   private:
    const FakeLlmClient& script_;
    std::size_t sent_ = 0;
    llm::CompletionResult result_;
  };
};

}  // namespace chrysopedia::test

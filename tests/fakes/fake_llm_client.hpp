#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chrysopedia/llm/llm_client.hpp"

namespace chrysopedia::test {

/// An LlmClient that streams the deltas the test set, then ends, or fails
/// after `fail_after` of them, or falls silent after `silent_after` of them
/// (for 5 s, then ends; a cancelled wait throws operation_aborted, as the
/// real client's does); keeps every request it was given.
class FakeLlmClient final : public llm::LlmClient {
 public:
  std::vector<std::string> deltas{"An ", "answer ", "[1]."};
  std::optional<std::size_t> fail_after;  ///< deltas sent before an LlmError
  std::optional<llm::Usage> usage = llm::Usage{120, 3};
  std::vector<llm::CompletionRequest> requests;
  std::function<void()> on_start;  ///< called as each request is started
  std::optional<std::size_t> silent_after;
  std::function<void()> on_silent;  ///< posted as the stream falls silent

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
      if (script_.silent_after && sent_ == *script_.silent_after) {
        const auto ex = co_await boost::asio::this_coro::executor;
        if (script_.on_silent) boost::asio::post(ex, script_.on_silent);
        boost::asio::steady_timer silence(ex, std::chrono::seconds(5));
        co_await silence.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        const auto cs = co_await boost::asio::this_coro::cancellation_state;
        if (cs.cancelled() != boost::asio::cancellation_type::none) {
          throw boost::system::system_error(boost::asio::error::operation_aborted);
        }
        result_.finish_reason = "stop";
        co_return std::nullopt;
      }
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

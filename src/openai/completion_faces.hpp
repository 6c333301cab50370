#pragma once

#include <string>
#include <vector>

#include "chrysopedia/chat/answer.hpp"
#include "chrysopedia/http/exchange.hpp"
#include "openai/chunks.hpp"

namespace chrysopedia::openai {

/// `stream: true` (SPEC §10): nothing is written until the sources are
/// found, so a failed search is still a 503; then the role chunk, a chunk
/// per delta, the last chunk with `finish_reason`, `citations` and
/// `sources`, the usage chunk when asked for, and `data: [DONE]`. A model
/// that fails ends the stream with an error chunk instead.
class StreamingFace final : public chat::AnswerSink {
 public:
  StreamingFace(http::Exchange& exchange, std::string url_template, bool include_usage);

  boost::asio::awaitable<void> begin() override;
  boost::asio::awaitable<void> search_failed() override;
  boost::asio::awaitable<void> sources(const chat::Sources& sources) override;
  boost::asio::awaitable<void> token(std::string_view delta) override;
  boost::asio::awaitable<void> model_failed(int status) override;
  boost::asio::awaitable<void> answered(const chat::Answered& answer) override;
  void caught_up() override {
    if (events_) events_->release();
  }

 private:
  http::Exchange& exchange_;
  http::EventStream* events_ = nullptr;
  std::string url_template_;
  bool include_usage_;
  ChunkEncoder encoder_;
  std::string chunk_;  // reused per token
  std::vector<std::string> urls_;
  std::string sources_json_;
};

/// `stream: false`: one `chat.completion` object once the answer is whole,
/// or an OpenAI-shaped 503 (search) or 502 (model).
class WholeFace final : public chat::AnswerSink {
 public:
  WholeFace(http::Exchange& exchange, std::string url_template);

  boost::asio::awaitable<void> begin() override;
  boost::asio::awaitable<void> search_failed() override;
  boost::asio::awaitable<void> sources(const chat::Sources& sources) override;
  boost::asio::awaitable<void> token(std::string_view delta) override;
  boost::asio::awaitable<void> model_failed(int status) override;
  boost::asio::awaitable<void> answered(const chat::Answered& answer) override;

 private:
  http::Exchange& exchange_;
  std::string url_template_;
  CompletionHead head_;
  std::vector<chat::SourceRef> refs_;
  std::vector<std::string> urls_;
  std::string sources_json_;
};

}  // namespace chrysopedia::openai

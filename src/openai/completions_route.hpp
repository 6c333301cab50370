#pragma once

#include <functional>
#include <string>

#include "chrysopedia/chat/answer.hpp"
#include "chrysopedia/http/router.hpp"

namespace chrysopedia::openai {

/// `POST /v1/chat/completions` (SPEC §10): OpenAI's request read into a
/// chat turn, answered by the same pipeline as `/api/v1/chat`, written by
/// one of this face's encoders (streamed chunks or one object).
class CompletionsRoute {
 public:
  /// `url_template`: SOURCE_URL_TEMPLATE.
  CompletionsRoute(chat::Answerer& answerer, std::string url_template);

  /// `guard(handler, opens_stream)` puts the route behind the API keys,
  /// rate limit and stream cap, as the chat.
  void add_routes(http::Router& router,
                  const std::function<http::Handler(http::Handler, bool)>& guard = {});

  boost::asio::awaitable<void> complete(http::Exchange& exchange);

 private:
  chat::Answerer& answerer_;
  std::string url_template_;
};

}  // namespace chrysopedia::openai

#pragma once

#include <chrono>

#include "chrysopedia/http/router.hpp"

namespace chrysopedia::openai {

/// The one model this service is to OpenAI's clients (SPEC §10).
inline constexpr const char* kModelId = "chrysopedia";

/// `GET /v1/models`: `{"object": "list", "data": [{"id": "chrysopedia",
/// "object": "model", "created": N, "owned_by": "chrysopedia"}]}`, with N
/// the time the service started (what clients show as the model's date).
class ModelsRoute {
 public:
  explicit ModelsRoute(
      std::chrono::system_clock::time_point started = std::chrono::system_clock::now());
  /// `guard` puts the route behind the API keys and rate limit, as the chat.
  void add_routes(http::Router& router,
                  const std::function<http::Handler(http::Handler)>& guard = {});
  boost::asio::awaitable<void> models(http::Exchange& exchange);

 private:
  long long created_;
};

}  // namespace chrysopedia::openai

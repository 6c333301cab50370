#include "openai/models_route.hpp"

#include <nlohmann/json.hpp>

namespace chrysopedia::openai {

ModelsRoute::ModelsRoute(std::chrono::system_clock::time_point started)
    : created_(
          std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count()) {}

void ModelsRoute::add_routes(http::Router& router,
                             const std::function<http::Handler(http::Handler)>& guard) {
  http::Handler handler = [this](http::Exchange& ex) { return models(ex); };
  router.add("GET", "/v1/models", guard ? guard(std::move(handler)) : std::move(handler));
}

boost::asio::awaitable<void> ModelsRoute::models(http::Exchange& ex) {
  http::Response response;
  response.body =
      nlohmann::ordered_json{
          {"object", "list"},
          {"data", nlohmann::ordered_json::array({nlohmann::ordered_json{{"id", kModelId},
                                                                         {"object", "model"},
                                                                         {"created", created_},
                                                                         {"owned_by", kModelId}}})}}
          .dump();
  co_await ex.respond(std::move(response));
}

}  // namespace chrysopedia::openai

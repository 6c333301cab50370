#include "openai/completions_route.hpp"

#include <chrono>

#include "openai/completion_faces.hpp"
#include "openai/completion_request.hpp"

namespace chrysopedia::openai {

namespace net = boost::asio;

CompletionsRoute::CompletionsRoute(chat::Answerer& answerer, std::string url_template)
    : answerer_(answerer), url_template_(std::move(url_template)) {}

void CompletionsRoute::add_routes(http::Router& router,
                                  const std::function<http::Handler(http::Handler, bool)>& guard) {
  http::Handler handler = [this](http::Exchange& ex) { return complete(ex); };
  router.add("POST", "/v1/chat/completions",
             guard ? guard(std::move(handler), true) : std::move(handler));
}

net::awaitable<void> CompletionsRoute::complete(http::Exchange& ex) {
  const auto arrived = std::chrono::steady_clock::now();
  const auto& request = ex.request();
  auto parsed = parse_completion_request(request.header("content-type"), request.body);
  if (const auto* error = std::get_if<OpenAiError>(&parsed)) {
    http::Response response;
    response.status = error->status;
    response.body = error->body();
    co_await ex.respond(std::move(response));
    co_return;
  }
  CompletionAsk ask = std::get<CompletionAsk>(std::move(parsed));
  chat::Turn turn;
  turn.question = std::move(ask.question);
  turn.creator = std::move(ask.creator);
  turn.history = std::move(ask.history);
  turn.extra_system = std::move(ask.system);
  turn.temperature = ask.temperature;
  turn.max_tokens = ask.max_tokens;
  turn.stop = std::move(ask.stop);
  turn.user = std::move(ask.user);
  turn.keep_markers = !ask.stream;
  turn.request_id = request.request_id;
  turn.face = "openai";
  turn.arrived = arrived;
  if (ask.stream) {
    StreamingFace face(ex, url_template_, ask.include_usage);
    co_await answerer_.answer(std::move(turn), face);
  } else {
    WholeFace face(ex, url_template_);
    co_await answerer_.answer(std::move(turn), face);
  }
}

}  // namespace chrysopedia::openai

#include "openai/completion_faces.hpp"

#include "openai/source_url.hpp"

namespace chrysopedia::openai {

namespace net = boost::asio;

namespace {

constexpr std::string_view kSearchFailed =
    "Search failed: the technique index cannot be reached right now; retry shortly.";
constexpr std::string_view kModelFailed =
    "The language model failed to answer; retry shortly (the server's log has the cause).";

http::Response error_response(int status, std::string_view message, std::string_view code) {
  http::Response r;
  r.status = status;
  r.body = error_object(message, "server_error", code);
  return r;
}

std::vector<std::string> urls_of(const chat::Sources& sources, const std::string& url_template) {
  std::vector<std::string> urls;
  urls.reserve(sources.refs.size());
  for (const auto& ref : sources.refs)
    urls.push_back(source_url(url_template, ref.slug, ref.anchor));
  return urls;
}

}  // namespace

StreamingFace::StreamingFace(http::Exchange& exchange, std::string url_template, bool include_usage)
    : exchange_(exchange),
      url_template_(std::move(url_template)),
      include_usage_(include_usage),
      encoder_(new_completion_head()) {}

net::awaitable<void> StreamingFace::begin() {
  co_return;  // nothing yet: a failed search is still a status
}

net::awaitable<void> StreamingFace::search_failed() {
  auto response = error_response(503, kSearchFailed, "search_unavailable");
  co_await exchange_.respond(std::move(response));
}

net::awaitable<void> StreamingFace::sources(const chat::Sources& sources) {
  urls_ = urls_of(sources, url_template_);
  sources_json_ = sources.json;
  events_ = co_await exchange_.open_event_stream();
  const std::string role = encoder_.role();
  co_await events_->send("", role);
}

net::awaitable<void> StreamingFace::token(std::string_view delta) {
  chunk_.clear();
  encoder_.append_content(chunk_, delta);
  events_->hold();  // until caught_up(): one write for what one read brought
  co_await events_->send("", chunk_);
}

net::awaitable<void> StreamingFace::model_failed(int) {
  // Never a silent [DONE]: the client must know the answer is cut short.
  const std::string error = error_object(kModelFailed, "server_error", "llm_failed");
  co_await events_->send("", error);
}

net::awaitable<void> StreamingFace::answered(const chat::Answered& answer) {
  const std::string last = encoder_.last(answer.finish_reason, urls_, sources_json_);
  co_await events_->send("", last);
  if (include_usage_) {
    const std::string usage = encoder_.usage(answer.usage);
    co_await events_->send("", usage);
  }
  co_await events_->send("", "[DONE]");
}

WholeFace::WholeFace(http::Exchange& exchange, std::string url_template)
    : exchange_(exchange), url_template_(std::move(url_template)), head_(new_completion_head()) {}

net::awaitable<void> WholeFace::begin() {
  co_return;
}

net::awaitable<void> WholeFace::search_failed() {
  auto response = error_response(503, kSearchFailed, "search_unavailable");
  co_await exchange_.respond(std::move(response));
}

net::awaitable<void> WholeFace::sources(const chat::Sources& sources) {
  refs_ = sources.refs;
  urls_ = urls_of(sources, url_template_);
  sources_json_ = sources.json;
  co_return;
}

net::awaitable<void> WholeFace::token(std::string_view) {
  co_return;  // the pipeline keeps the whole text
}

net::awaitable<void> WholeFace::model_failed(int) {
  auto response = error_response(502, kModelFailed, "llm_failed");
  co_await exchange_.respond(std::move(response));
}

net::awaitable<void> WholeFace::answered(const chat::Answered& answer) {
  http::Response response;
  response.body = completion_object(head_, answer, refs_, urls_, sources_json_);
  co_await exchange_.respond(std::move(response));
}

}  // namespace chrysopedia::openai

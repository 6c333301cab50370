#include "llm/openai_embeddings_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "common/log_text.hpp"
#include "common/one_shot.hpp"
#include "llm/curl_multi.hpp"
#include "llm/embeddings_response.hpp"
#include "llm/http_transport.hpp"

namespace chrysopedia::llm {

namespace net = boost::asio;
using Vectors = std::vector<std::vector<float>>;

namespace {

// Collects one whole response and hands it on at its end.
class Collector final : public CallEvents {
 public:
  Collector(std::size_t max, std::size_t count, common::OneShot<Vectors>::Complete complete)
      : max_(max), count_(count), complete_(std::move(complete)) {}

  void on_header(std::string_view, std::string_view) override {}

  Take on_body(int status, std::string_view bytes) override {
    status_ = status;
    if (body_.size() + bytes.size() > max_) {
      fail("the embeddings response is larger than " + std::to_string(max_ >> 20) + " MiB");
      return Take::abort;
    }
    body_.append(bytes);
    return Take::all;
  }

  void on_end(CallOutcome outcome) override {
    if (done_) return;
    if (!outcome.complete) {
      fail("the embeddings endpoint failed: " + outcome.what);
    } else if (outcome.status < 200 || outcome.status > 299) {
      fail("the embeddings endpoint answered HTTP " + std::to_string(outcome.status) + ": " +
           common::log_quote(body_, 300));
    } else {
      try {
        auto vectors = parse_embeddings_response(body_, count_);
        done_ = true;
        complete_(nullptr, std::move(vectors));
      } catch (const search::EmbeddingError&) {
        fail_with(std::current_exception());
      }
    }
  }

  void fail(const std::string& why) {
    fail_with(std::make_exception_ptr(search::EmbeddingError(why)));
  }

  std::unique_ptr<UpstreamCall> call;
  std::string request_body;

 private:
  void fail_with(std::exception_ptr e) {
    if (done_) return;
    done_ = true;
    complete_(std::move(e), {});
  }
  std::size_t max_;
  std::size_t count_;
  common::OneShot<Vectors>::Complete complete_;
  std::string body_;
  int status_ = 0;
  bool done_ = false;
};

}  // namespace

OpenAiEmbeddingsClient::OpenAiEmbeddingsClient(CurlMulti& multi, EmbeddingsOptions options)
    : options_(std::move(options)), curl_(multi) {
  transport_ = &curl_;
  if (AsioHttpTransport::handles(options_.url + "/embeddings")) {
    native_ = std::make_unique<AsioHttpTransport>(multi.context());
    transport_ = native_.get();
  }
}

OpenAiEmbeddingsClient::~OpenAiEmbeddingsClient() = default;

net::awaitable<Vectors> OpenAiEmbeddingsClient::embed(std::vector<std::string> texts) {
  if (texts.empty()) co_return Vectors{};
  nlohmann::json body{{"model", options_.model}, {"input", texts}, {"encoding_format", "float"}};
  if (options_.dimensions > 0) body["dimensions"] = options_.dimensions;
  // Owned by the call's completion: destroying it (on cancellation or
  // at the end) closes the request.
  std::shared_ptr<Collector> collector;
  std::function<void(common::OneShot<Vectors>::Complete)> start =
      [&](common::OneShot<Vectors>::Complete complete) {
        collector = std::make_shared<Collector>(options_.max_response, texts.size(), complete);
        collector->request_body = body.dump();
        CallRequest request;
        request.url = options_.url + "/embeddings";
        request.body = collector->request_body;
        request.headers = {"Content-Type: application/json", "Accept: application/json"};
        if (!options_.api_key.empty()) {
          request.headers.push_back("Authorization: Bearer " + options_.api_key);
        }
        request.connect_timeout = options_.connect_timeout;
        request.total_timeout = options_.timeout;
        collector->call = transport_->start(request, *collector);
      };
  struct Release {
    std::shared_ptr<Collector>& c;
    ~Release() {
      if (c) c->call.reset();
    }
  } release{collector};
  co_return co_await common::OneShot<Vectors>::run(std::move(start));
}

}  // namespace chrysopedia::llm

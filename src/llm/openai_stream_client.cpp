#include "llm/openai_stream_client.hpp"

#include <random>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "chrysopedia/config/settings.hpp"
#include "common/json_string.hpp"
#include "common/log_text.hpp"
#include "common/utf8.hpp"
#include "llm/curl_multi.hpp"
#include "llm/delta_queue.hpp"
#include "llm/http_transport.hpp"
#include "llm/inline_signal.hpp"
#include "llm/retry_policy.hpp"
#include "llm/upstream_sse_parser.hpp"

namespace chrysopedia::llm {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

std::string completion_body(const CompletionRequest& request) {
  // Written by hand rather than through a JSON document: the prompt is
  // kilobytes of source text per chat (see docs/PERFORMANCE.md, cost).
  std::string out;
  std::size_t size = 160 + request.model.size();
  for (const auto& m : request.messages) size += m.content.size() + m.role.size() + 32;
  out.reserve(size + size / 16);
  out.append("{\"max_tokens\":").append(std::to_string(request.max_tokens));
  out.append(",\"messages\":[");
  for (std::size_t i = 0; i < request.messages.size(); ++i) {
    out.append(i == 0 ? "{\"content\":" : ",{\"content\":");
    common::append_json_string(out, request.messages[i].content);
    out.append(",\"role\":");
    common::append_json_string(out, request.messages[i].role);
    out.push_back('}');
  }
  out.append("],\"model\":");
  common::append_json_string(out, request.model);
  if (!request.stop.empty()) {
    out.append(",\"stop\":[");
    for (std::size_t i = 0; i < request.stop.size(); ++i) {
      if (i > 0) out.push_back(',');
      common::append_json_string(out, request.stop[i]);
    }
    out.push_back(']');
  }
  out.append(",\"stream\":true");
  if (request.stream_usage) out.append(",\"stream_options\":{\"include_usage\":true}");
  // The same shortest round-trip form a JSON library writes.
  out.append(",\"temperature\":").append(nlohmann::json(request.temperature).dump());
  if (request.user) {
    out.append(",\"user\":");
    common::append_json_string(out, *request.user);
  }
  out.push_back('}');
  return out;
}

namespace {

// Past this much text waiting for the consumer, the transfer is paused:
// a slow client slows the upstream read instead of growing memory.
constexpr std::size_t kPauseAbove = 256 * 1024;
constexpr std::size_t kMaxErrorBody = 2048;

/// Everything one completion needs, shared by the stream handle and the
/// call's events (a retry's timer may outlive the handle by a turn).
struct State : UpstreamSseParser::Handler, CallEvents, std::enable_shared_from_this<State> {
  State(net::io_context& ctx, const OpenAiOptions& o, UpstreamTransport& primary,
        UpstreamTransport& fallback, std::string b)
      : options(o),
        primary(primary),
        fallback(fallback),
        body(std::move(b)),
        parser(o.max_line),
        wake(ctx),
        retry_timer(ctx),
        idle_timer(ctx) {}
  ~State() { release_call(); }

  const OpenAiOptions& options;
  UpstreamTransport& primary;   // carries options.url
  UpstreamTransport& fallback;  // carries options.fallback_url
  std::string body;
  UpstreamSseParser parser;
  InlineSignal wake;  // the consumer waiting in next()
  net::steady_timer retry_timer;
  net::steady_timer idle_timer;
  Clock::time_point last_activity;

  std::unique_ptr<UpstreamCall> call;
  std::string error_body;
  std::chrono::milliseconds retry_after{0};
  int attempt = 0;
  bool on_fallback = false;
  std::string url;

  DeltaQueue deltas;
  bool paused = false;
  bool delivered = false;  // a delta reached the consumer: no more retries
  bool got_done = false;
  bool finished = false;
  std::exception_ptr error;
  std::string parse_error;
  CompletionResult result;

  // Parser handler
  void on_delta(std::string_view text) override {
    deltas.push(text);
    result.text.append(text);
  }
  void on_finish_reason(std::string_view reason) override { result.finish_reason = reason; }
  void on_usage(int prompt, int completion) override { result.usage = Usage{prompt, completion}; }
  void on_done() override { got_done = true; }

  // From our own turn of the loop only (a posted end, a timer): the
  // consumer runs inside it.
  void notify() { wake.notify(); }

  // Once a delta has come there is no retry, and once the whole body has
  // been sent it is read no more: a stream open for minutes need not hold
  // its prompt (kilobytes each, thousands of streams).
  void release_body() {
    if (!body.empty() && call && call->request_sent()) std::string().swap(body);
  }

  void release_call() {
    idle_timer.cancel();
    call.reset();  // closes the connection if the call still runs
  }

  // The call's events
  void on_header(std::string_view name, std::string_view value) override {
    if (const auto delay = retry_after_header(name, value)) retry_after = *delay;
  }

  Take on_body(int status, std::string_view bytes) override {
    last_activity = Clock::now();
    if (status < 200 || status > 299) {
      const auto room = kMaxErrorBody - std::min(kMaxErrorBody, error_body.size());
      error_body.append(bytes.substr(0, room));
      return Take::all;
    }
    if (deltas.bytes() > kPauseAbove) {
      paused = true;
      return Take::pause;
    }
    if (auto err = parser.feed(bytes, *this)) {
      parse_error = *err;
      return Take::abort;
    }
    if (!deltas.empty()) {
      release_body();
      // The consumer is woken at on_read_end: the transport may be mid-parse here.
    }
    return Take::all;
  }

  // What one read brought is parsed and queued: the consumer takes it all
  // now, from this turn, and its writes leave together. (It waits only
  // while nothing is queued.)
  void on_read_end() override {
    if (deltas.empty()) return;
    auto keep = shared_from_this();  // the consumer may end the stream
    notify();
  }

  void begin(const std::string& base_url) {
    url = base_url + "/chat/completions";
    error_body.clear();
    retry_after = std::chrono::milliseconds(0);
    CallRequest request;
    request.url = url;
    request.body = body;
    request.headers = {"Content-Type: application/json", "Accept: text/event-stream"};
    if (!options.api_key.empty())
      request.headers.push_back("Authorization: Bearer " + options.api_key);
    request.connect_timeout = options.connect_timeout;
    request.total_timeout = options.total_timeout;
    call = (on_fallback ? fallback : primary).start(request, *this);
    last_activity = Clock::now();
    arm_idle_timer();
  }

  // Silence between bytes past idle_timeout ends the transfer. The timer is
  // re-armed lazily from the last activity, not reset on every chunk.
  void arm_idle_timer() {
    idle_timer.expires_at(last_activity + options.idle_timeout);
    std::weak_ptr<State> weak = shared_from_this();
    idle_timer.async_wait([weak](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || !self->call) return;
      if (Clock::now() - self->last_activity < self->options.idle_timeout) {
        self->arm_idle_timer();
        return;
      }
      self->release_call();
      self->error = std::make_exception_ptr(LlmError(
          LlmError::Kind::timeout, "the upstream sent nothing for " +
                                       std::to_string(self->options.idle_timeout.count()) + " ms"));
      spdlog::warn("llm_request_failed url={} error=\"idle timeout\"",
                   config::redact_url(self->url));
      self->finished = true;
      self->notify();
    });
  }

  void on_end(CallOutcome outcome) override {
    if (!call) return;               // cancelled meanwhile
    auto keep = shared_from_this();  // releasing the call must not end us
    std::exception_ptr failure = classify(outcome);
    const bool retryable = failure && !delivered && deltas.empty() && is_retryable(outcome);
    release_call();
    if (retryable && attempt < options.max_retries) {
      schedule_retry(on_fallback ? options.fallback_url : options.url, failure);
      return;
    }
    if (retryable && !on_fallback && !options.fallback_url.empty()) {
      on_fallback = true;
      attempt = 0;
      spdlog::warn("llm_fallback from={} to={}", config::redact_url(options.url),
                   config::redact_url(options.fallback_url));
      schedule_retry(options.fallback_url, failure, std::chrono::milliseconds(0));
      return;
    }
    error = failure;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const LlmError& e) {
        // The upstream's own words (an error chunk, an error body) are text
        // a model or a proxy chose: quoted and escaped like client input.
        spdlog::warn("llm_request_failed url={} status={} attempts={} error={}",
                     config::redact_url(url), e.status(), attempt + 1, common::log_quote(e.what()));
      }
    }
    finished = true;
    notify();
  }

  std::exception_ptr classify(const CallOutcome& outcome) {
    AttemptEnd end{outcome, parse_error, error_body, got_done || !result.finish_reason.empty(),
                   std::nullopt};
    // What the parser still holds matters only for a response read in full.
    if (outcome.complete || end.stream_ended) end.unfinished = parser.finish(*this);
    return failure_of(end);
  }

  void schedule_retry(const std::string& base, std::exception_ptr why,
                      std::optional<std::chrono::milliseconds> delay = std::nullopt) {
    const auto wait = delay.value_or(retry_delay(options.retry_base, attempt, retry_after));
    ++attempt;
    parser = UpstreamSseParser(options.max_line);
    parse_error.clear();
    result = CompletionResult{};
    got_done = false;
    try {
      std::rethrow_exception(why);
    } catch (const std::exception& e) {
      spdlog::info("llm_retry attempt={} in_ms={} reason={}", attempt, wait.count(),
                   common::log_quote(e.what()));
    }
    auto self = shared_from_this();
    retry_timer.expires_after(wait);
    retry_timer.async_wait([self, base](boost::system::error_code ec) {
      if (!ec && !self->finished) self->begin(base);
    });
  }
};

class OpenAiStream final : public CompletionStream {
 public:
  explicit OpenAiStream(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~OpenAiStream() override {
    state_->finished = true;
    state_->retry_timer.cancel();
    state_->release_call();  // closes the upstream connection now
  }

  net::awaitable<std::optional<std::string>> next() override {
    State& s = *state_;
    for (;;) {
      if (!s.deltas.empty()) {
        std::string delta = s.deltas.take();
        s.delivered = true;
        if (s.paused && s.deltas.bytes() < kPauseAbove / 2 && s.call) {
          s.paused = false;
          s.call->resume();
        }
        co_return delta;
      }
      if (s.finished) {
        if (s.error) std::rethrow_exception(s.error);
        co_return std::nullopt;
      }
      co_await s.wake.async_wait(net::as_tuple(net::use_awaitable));
      const auto cs = co_await net::this_coro::cancellation_state;
      if (cs.cancelled() != net::cancellation_type::none) {
        throw boost::system::system_error(net::error::operation_aborted);
      }
    }
  }

  bool ready() const override { return !state_->deltas.empty(); }
  const CompletionResult& result() const override { return state_->result; }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace

OpenAiStreamClient::OpenAiStreamClient(CurlMulti& multi, OpenAiOptions options)
    : ctx_(multi.context()), options_(std::move(options)), curl_(multi) {
  // Decided once: the URLs and the environment's proxies do not change.
  auto pick = [this](const std::string& base) -> UpstreamTransport& {
    if (options_.curl_only || !AsioHttpTransport::handles(base + "/chat/completions")) return curl_;
    if (!native_) native_ = std::make_unique<AsioHttpTransport>(ctx_);
    return *native_;
  };
  primary_ = &pick(options_.url);
  fallback_ = &pick(options_.fallback_url);
}

OpenAiStreamClient::~OpenAiStreamClient() = default;

std::unique_ptr<CompletionStream> OpenAiStreamClient::start(const CompletionRequest& request) {
  auto state =
      std::make_shared<State>(ctx_, options_, *primary_, *fallback_, completion_body(request));
  state->begin(options_.url);
  return std::make_unique<OpenAiStream>(std::move(state));
}

}  // namespace chrysopedia::llm

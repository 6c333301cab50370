#include "chat/native_face.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/log_text.hpp"

namespace chrysopedia::chat {

namespace net = boost::asio;

namespace {
constexpr std::string_view kSearchFailed = R"({"message":"Search failed"})";
constexpr std::string_view kLlmFailed = R"({"message":"LLM generation failed"})";

// Source `n` (from 1) of NativeFace::cited_as_: its slug and anchor. The
// scanner cites only listed sources, so `n` is there.
std::pair<std::string_view, std::string_view> cited_source(std::string_view sources, int n) {
  const auto next = [&sources] {
    const auto end = sources.find('\0');
    const auto field = sources.substr(0, end);
    sources.remove_prefix(end + 1);
    return field;
  };
  for (int i = 1; i < n; ++i) {
    next();
    next();
  }
  const auto slug = next();
  return {slug, next()};
}
}  // namespace

NativeFace::NativeFace(http::Exchange& exchange, Memory memory, std::string question,
                       std::string conversation_id, std::chrono::steady_clock::time_point started,
                       std::unique_ptr<history::StreamWriter> writer)
    : exchange_(exchange),
      request_id_(exchange.request().request_id),
      memory_(std::move(memory)),
      question_(std::move(question)),
      conversation_id_(std::move(conversation_id)),
      started_(started),
      writer_(std::move(writer)) {}

net::awaitable<void> NativeFace::send(std::string_view event, std::string_view data) {
  if (!writer_) {
    co_await events_->send(event, data);
    co_return;
  }
  // Kept before it is written: a reader who resumes from this id finds it.
  const long long seq = writer_->append(event, data);
  if (history::ends_stream(event)) writer_->finish();
  if (detached_) co_return;
  const std::string id = history::event_id(writer_->id(), seq);
  co_await to_client(events_->send(event, data, id));
}

net::awaitable<void> NativeFace::to_client(net::awaitable<void> write) {
  writing_ = true;
  try {
    co_await std::move(write);
  } catch (const boost::system::system_error&) {
    // Cancelled by detach() (the client left), or the client's socket
    // failed first: either way, with a grace the answer goes on.
    if (!detachable()) {
      writing_ = false;
      throw;
    }
    if (!detached_) detach();
  }
  writing_ = false;
  if (!detached_) co_return;
  // detach() cancelled this write, or meant to (its completion may already
  // have been on its way): the cancellation must not reach what follows.
  co_await net::this_coro::reset_cancellation_state();
  if (on_unwound_) on_unwound_();
}

bool NativeFace::detach() {
  if (!detached_) {
    detached_ = true;
    detached_at_ = std::chrono::steady_clock::now();
    spdlog::info("chat_detached rid={} grace_s={}", request_id_, grace_.count());
    if (on_detached_) on_detached_();
  }
  return writing_;
}

bool NativeFace::abandoned() const {
  // A stream that cannot be kept cannot be resumed: no grace for it.
  return detached_ && (writer_->failing() || std::chrono::steady_clock::now() > abandoned_at());
}

std::chrono::steady_clock::time_point NativeFace::abandoned_at() const {
  return std::max(detached_at_, writer_->reader_seen()) + grace_;
}

net::awaitable<void> NativeFace::begin() {
  std::vector<std::pair<std::string, std::string>> headers;
  if (writer_) headers.emplace_back("Chrysopedia-Stream-Id", writer_->id());
  auto open = [this, &headers]() -> net::awaitable<void> {
    events_ = co_await exchange_.open_event_stream(std::move(headers));
  };
  co_await to_client(open());
}

net::awaitable<void> NativeFace::search_failed() {
  co_await send("error", kSearchFailed);
}

net::awaitable<void> NativeFace::sources(const Sources& sources) {
  std::size_t bytes = 0;
  for (const auto& ref : sources.refs) bytes += ref.slug.size() + ref.anchor.size() + 2;
  cited_as_.reserve(bytes);
  for (const auto& ref : sources.refs) {
    cited_as_.append(ref.slug).push_back('\0');
    cited_as_.append(ref.anchor).push_back('\0');
  }
  co_await send("sources", sources.json);
}

net::awaitable<void> NativeFace::token(std::string_view delta) {
  // Tokens wait for caught_up(): one write for what one read brought.
  if (events_ && !detached_) events_->hold();
  co_await send("token", delta);
}

void NativeFace::caught_up() {
  // Once detached, the exchange (and its stream) may be gone.
  if (events_ && !detached_) events_->release();
}

net::awaitable<void> NativeFace::model_failed(int) {
  co_await send("error", kLlmFailed);
}

net::awaitable<void> NativeFace::answered(const Answered& answer) {
  if (memory_.save) {
    try {
      co_await memory_.store->append_turn(memory_.stored_id, question_, std::string(answer.text));
    } catch (const history::HistoryError& e) {
      spdlog::warn("chat_history_save_error cid={} rid={} error={}", conversation_id_, request_id_,
                   common::log_quote(e.what()));
    }
  }
  const double latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
          .count();
  nlohmann::json done = {{"cascade_tier", answer.cascade_tier},
                         {"searched_query", answer.searched_query},
                         {"conversation_id", conversation_id_},
                         {"latency_ms", std::round(latency_ms * 10) / 10}};
  nlohmann::json cited = nlohmann::json::array();
  for (int n : answer.cited) {
    const auto [slug, anchor] = cited_source(cited_as_, n);
    cited.push_back({{"number", n}, {"slug", slug}, {"section_anchor", anchor}});
  }
  done["citations"] = std::move(cited);
  done["invalid_citations"] = answer.invalid;
  if (answer.stopped) done["stopped"] = true;
  if (answer.usage) {
    done["usage"] = {{"prompt_tokens", answer.usage->prompt_tokens},
                     {"completion_tokens", answer.usage->completion_tokens}};
  }
  const std::string done_json = done.dump();
  co_await send("done", done_json);
}

}  // namespace chrysopedia::chat

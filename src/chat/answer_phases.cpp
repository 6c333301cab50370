#include "chat/answer_phases.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include "chat/chat_metrics.hpp"
#include "chat/citation_scanner.hpp"
#include "chat/followup_rewriter.hpp"
#include "chat/prompt.hpp"
#include "common/log_text.hpp"

namespace chrysopedia::chat {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using common::log_quote;
using common::log_quote_or_null;

namespace {

// The model's request: our prompt, the caller's system messages after
// ours, the caller's settings where it gave them.
llm::CompletionRequest completion_request(const config::Settings& settings, Turn& turn,
                                          const std::vector<search::SearchItem>& items) {
  llm::CompletionRequest request;
  request.messages = build_messages(items, turn.history, turn.question);
  std::vector<llm::ChatMessage> extra;
  for (auto& text : turn.extra_system) extra.push_back({"system", std::move(text)});
  request.messages.insert(request.messages.begin() + 1, std::make_move_iterator(extra.begin()),
                          std::make_move_iterator(extra.end()));
  request.model = settings.llm_model;
  request.temperature = turn.temperature.value_or(settings.llm_temperature);
  request.max_tokens = turn.max_tokens.value_or(settings.llm_max_tokens);
  // Usage is asked for as the operator set it (LLM_STREAM_USAGE: some
  // upstreams refuse stream_options), whatever the caller asked.
  request.stream_usage = settings.llm_stream_usage;
  request.stop = std::move(turn.stop);
  request.user = std::move(turn.user);
  for (const auto& item : items) request.sources.push_back(item.summary);
  return request;
}

Sources sources_of(const std::vector<search::SearchItem>& items) {
  Sources sources;
  sources.json = sources_json(items);
  sources.refs.reserve(items.size());
  for (const auto& item : items)
    sources.refs.push_back({item.title, item.slug, item.section_anchor});
  return sources;
}

// The search, in the light of the questions before it: made standalone by
// the model when the operator asks for that and it answers in time, else
// with the earlier questions as context. Null when it failed (logged).
net::awaitable<std::unique_ptr<search::SearchResult>> search_for(const config::Settings& settings,
                                                                 const ChatPeers& peers,
                                                                 const Turn& turn) {
  search::SearchRequest request{turn.question, turn.creator, settings.chat_max_context_sources};
  for (const auto& m : turn.history) {
    if (m.role == "user") request.context.push_back(m.content);
  }
  std::string rewrite = "off";
  // Only a model can rewrite: the offline answerer would answer instead.
  if (settings.chat_rewrite_followups && !settings.llm_api_url.empty() &&
      !request.context.empty()) {
    const auto r = co_await rewrite_followup(*peers.llm, settings.llm_model, request.context,
                                             turn.question, settings.chat_rewrite_timeout);
    rewrite = r.outcome;
    if (r.query) {
      request.query = *r.query;
      request.context.clear();
    }
  }
  // (No co_await inside a catch block.)
  auto found = std::make_unique<search::SearchResult>();
  try {
    *found = co_await peers.search->search(request);
  } catch (const search::SearchError& e) {
    spdlog::error("chat_search_error query={} creator={} cid={} rid={} error={}",
                  log_quote(turn.question), log_quote_or_null(turn.creator), turn.conversation_id,
                  turn.request_id, log_quote(e.what()));
    co_return nullptr;
  }
  spdlog::info(
      "chat_search query={} searched={} rewrite={} creator={} cascade_tier={} semantic={} "
      "source_count={} cid={} rid={}",
      log_quote(turn.question), log_quote(found->searched_query), rewrite,
      log_quote_or_null(turn.creator), found->cascade_tier,
      found->semantic.empty() ? "off" : found->semantic, found->items.size(), turn.conversation_id,
      turn.request_id);
  co_return found;
}

// How the relay ended, for the sink's last word.
struct RelayEnd {
  bool stopped = false;
  std::size_t relayed = 0;  // bytes of the answer sent
};

net::awaitable<void> finish_answer(Turn& turn, AnswerStart& start, const RelayEnd& end,
                                   CitationScanner& citations, AnswerSink& sink,
                                   StreamMetrics& metrics) {
  const llm::CompletionResult* whole = &start.completion->result();
  llm::CompletionResult cut;
  if (end.stopped) {
    // What the readers got is the answer: the model's text past it (read
    // ahead, not sent) is dropped, and the upstream is stopped now.
    cut = *whole;
    cut.text.resize(end.relayed);
    cut.finish_reason = "stop";
    whole = &cut;
    start.completion.reset();
    spdlog::info("chat_stopped cid={} rid={} relayed_bytes={}", turn.conversation_id,
                 turn.request_id, end.relayed);
  }
  const llm::CompletionResult& result = *whole;
  citations.finish();
  metrics.citations(citations.cited().size(), citations.invalid().size());

  Answered answered;
  answered.stopped = end.stopped;
  answered.text = result.text;
  answered.cascade_tier = std::move(start.cascade_tier);
  answered.searched_query = std::move(start.searched_query);
  answered.cited = citations.cited();
  answered.invalid = citations.invalid();
  for (const auto& m : citations.markers()) {
    answered.markers.push_back({m.begin, m.end, m.numbers});
  }
  if (result.usage) {
    answered.usage = TurnUsage{result.usage->prompt_tokens, result.usage->completion_tokens};
  }
  answered.finish_reason = result.finish_reason;
  co_await sink.answered(answered);

  const double latency_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - turn.arrived).count();
  spdlog::info(
      "chat_done query={} creator={} cascade_tier={} source_count={} citations={} "
      "invalid_citations={} latency_ms={:.1f} face={} cid={} rid={}",
      log_quote(turn.question), log_quote_or_null(turn.creator), answered.cascade_tier,
      start.source_count, answered.cited.size(), answered.invalid.size(), latency_ms, turn.face,
      turn.conversation_id, turn.request_id);
}

}  // namespace

net::awaitable<std::unique_ptr<AnswerStart>> begin_answer(const config::Settings& settings,
                                                          const ChatPeers& peers, Turn& turn,
                                                          AnswerSink& sink,
                                                          StreamMetrics& metrics) {
  const auto search_started = Clock::now();
  // The search is on its way (its job handed to the pool, whose thread and
  // Postgres backend take a while to wake after an idle spell) before the
  // stream's headers are written: at one user each is a cold wake-up, and
  // in turn they add up (issue 16's time to first token).
  std::unique_ptr<search::SearchResult> found;
  {
    using namespace net::experimental::awaitable_operators;
    auto searching = search_for(settings, peers, turn);
    auto opening = sink.begin();
    auto both = std::move(searching) && std::move(opening);
    found = co_await std::move(both);
  }
  const auto search_ended = Clock::now();
  metrics.search_done(search_started, !found);
  if (!found) {
    co_await sink.search_failed();
    co_return nullptr;
  }
  auto start = std::make_unique<AnswerStart>();
  // Destroying the completion (the client left, the coroutine unwound)
  // stops the upstream transfer at once; nothing below runs, nothing is saved.
  start->completion = peers.llm->start(completion_request(settings, turn, found->items));
  // The sources go to the client while the model reads its prompt: start()
  // has sent the request on a pooled connection (LlmClient::start), so the
  // client's first token does not also wait for the sources' serialising
  // and their write.
  const auto model_asked = Clock::now();
  {
    const Sources sources = sources_of(found->items);
    co_await sink.sources(sources);
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    // Where the time before the sources went (the handler's start is after
    // the request was read): to the search (the stream opening meanwhile),
    // the model's request (on a pooled connection, written by then), the
    // sources.
    const auto us = [&turn](Clock::time_point t) {
      return std::chrono::duration_cast<std::chrono::microseconds>(t - turn.arrived).count();
    };
    spdlog::debug(
        "chat_timing search_start_us={} search_end_us={} model_asked_us={} sources_sent_us={} "
        "rid={}",
        us(search_started), us(search_ended), us(model_asked), us(Clock::now()), turn.request_id);
  }
  start->source_count = found->items.size();
  start->cascade_tier = std::move(found->cascade_tier);
  start->searched_query = std::move(found->searched_query);
  // The stream may stay open for minutes, thousands at a time: keep only
  // what its end needs, not the history the prompt was built from.
  std::vector<history::Message>().swap(turn.history);
  co_return start;
}

net::awaitable<void> relay_answer(Turn& turn, AnswerStart& start, AnswerSink& sink,
                                  StreamMetrics& metrics) {
  llm::CompletionStream& completion = *start.completion;
  CitationScanner citations(start.source_count, turn.keep_markers);
  RelayEnd end;
  bool llm_failed = false;
  int llm_status = 0;
  bool stop_cut = false;  // a stop ended the wait for the model
  try {
    for (;;) {
      // What one read from the model brought leaves in one write, as soon
      // as it is all relayed (not on a later turn of the loop).
      if (!completion.ready()) sink.caught_up();
      sink.awaiting_model(true);
      auto delta = co_await completion.next();
      sink.awaiting_model(false);
      if (!delta) break;
      citations.feed(*delta);
      co_await sink.token(*delta);
      metrics.token();
      end.relayed += delta->size();
      if (sink.stop_requested()) {
        end.stopped = true;
        break;
      }
      if (sink.abandoned()) {
        spdlog::info("chat_abandoned cid={} rid={} relayed_bytes={}", turn.conversation_id,
                     turn.request_id, end.relayed);
        co_return;  // the stream's writer ends it as abandoned; the upstream stops
      }
    }
  } catch (const llm::LlmError& e) {
    spdlog::error("chat_llm_error query={} cid={} rid={} status={} error={}",
                  log_quote(turn.question), turn.conversation_id, turn.request_id, e.status(),
                  log_quote(e.what()));
    llm_failed = true;
    llm_status = e.status();
  } catch (const boost::system::system_error& e) {
    // The cut that a stop emits (answer_detachable): the answer ends as
    // stopped. Any other cancellation (the client gone for good) goes on up.
    if (e.code() != net::error::operation_aborted || !sink.stop_requested()) throw;
    end.stopped = true;
    stop_cut = true;
  }
  sink.awaiting_model(false);
  sink.caught_up();  // a token held when a stop or a failure ended the loop
  // What follows (the readers' done, the saved turn) is not to be cut.
  if (stop_cut) co_await net::this_coro::reset_cancellation_state();
  if (llm_failed) {
    metrics.llm_failed();
    co_await sink.model_failed(llm_status);
    co_return;
  }
  co_await finish_answer(turn, start, end, citations, sink, metrics);
}

}  // namespace chrysopedia::chat

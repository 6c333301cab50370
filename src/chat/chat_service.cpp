#include "chat/chat_service.hpp"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "chat/chat_metrics.hpp"
#include "chat/chat_request.hpp"
#include "chat/citation_scanner.hpp"
#include "chat/followup_rewriter.hpp"
#include "chat/native_face.hpp"
#include "chat/offline_answerer.hpp"
#include "chat/prompt.hpp"
#include "chrysopedia/http/json_error.hpp"
#include "common/log_text.hpp"
#include "common/os_random.hpp"

namespace chrysopedia::chat {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// A value for a key=value log line: quoted, escaped, and cut short.
std::string log_value(std::string_view s) {
  return common::log_quote(s);
}

std::string log_value(const std::optional<std::string>& s) {
  return s ? log_value(std::string_view(*s)) : std::string("null");
}

std::string log_value(const char* s) {
  return log_value(std::string_view(s));
}
std::string log_value(const std::string& s) {
  return log_value(std::string_view(s));
}

// Where an owner's conversation is stored: keys' conversations apart
// from each other's (another key naming the same id finds nothing, and
// writes to its own), conversations without keys as before.
std::string stored_id(const std::string& owner, const std::string& conversation_id) {
  return owner.empty() ? conversation_id : owner + ":" + conversation_id;
}

http::Response unknown_conversation(const std::string& id) {
  return http::json_error(
      400, "unknown_conversation",
      "There is no conversation " + id +
          " to continue: this server takes only conversation ids it made (they expire an hour "
          "after their last turn). Send no conversation_id to start a new conversation; its id "
          "comes in the done event.");
}

}  // namespace

std::string make_uuid4() {
  return common::random_uuid4();
}

ChatService::ChatService(const config::Settings& settings, PeersOfThisLoop peers)
    : settings_(settings), peers_(std::move(peers)) {}

void ChatService::add_routes(http::Router& router, const RouteGuard& guard) {
  auto guarded = [&guard](http::Handler h, bool opens_stream) {
    return guard ? guard(std::move(h), opens_stream) : h;
  };
  router.add("POST", "/api/v1/chat",
             guarded([this](http::Exchange& ex) { return chat(ex); }, true));
  router.add("GET", "/api/v1/chat/streams/{id}",
             guarded([this](http::Exchange& ex) { return resume_stream(ex); }, true));
  router.add("POST", "/api/v1/chat/streams/{id}/stop",
             guarded([this](http::Exchange& ex) { return stop_stream(ex); }, false));
  router.add("GET", "/api/v1/conversations/{id}",
             guarded([this](http::Exchange& ex) { return get_conversation(ex); }, false));
  router.add("DELETE", "/api/v1/conversations/{id}",
             guarded([this](http::Exchange& ex) { return delete_conversation(ex); }, false));
}

net::awaitable<void> ChatService::chat(http::Exchange& ex) {
  const auto started = Clock::now();
  const auto& http_request = ex.request();
  auto parsed = parse_chat_request(http_request.header("content-type"), http_request.body);
  if (const auto* err = std::get_if<ChatRequestError>(&parsed)) {
    auto response = http::json_error(err->status, err->code, err->message);
    co_await ex.respond(std::move(response));
    co_return;
  }
  ChatRequest request = std::get<ChatRequest>(std::move(parsed));
  const std::string& rid = http_request.request_id;
  const ChatPeers peers = peers_();
  const std::string cid = request.conversation_id.value_or(make_uuid4());
  const std::string stored = stored_id(http_request.owner, cid);

  // Memory is never in the way: a failure is logged and the turn goes on.
  // Except where only the service's own ids are taken: then an id must be
  // known before the stream opens, and a store that cannot tell is a 503.
  std::vector<history::Message> history;
  const bool must_exist = request.conversation_id && !settings_.chat_client_conversation_ids;
  bool load_failed = false;
  if (request.conversation_id) {
    try {
      history = co_await peers.history->load(stored);
    } catch (const history::HistoryError& e) {
      spdlog::warn("chat_history_load_error cid={} rid={} error={}", cid, rid, log_value(e.what()));
      load_failed = true;
    }
  }
  if (must_exist && (load_failed || history.empty())) {
    http::Response refusal =
        load_failed ? http::json_error(503, "memory_unavailable",
                                       "Conversation memory is unavailable right now, so the "
                                       "conversation cannot be continued; retry shortly, or send "
                                       "no conversation_id to start a new one.")
                    : unknown_conversation(cid);
    co_await ex.respond(std::move(refusal));
    co_return;
  }

  NativeFace::Memory memory{peers.history, stored, settings_.chat_history_max_turn_pairs > 0};
  auto face = std::make_shared<NativeFace>(ex, std::move(memory), request.query, cid, started,
                                           peers.journal->open(http_request.owner));
  face->set_grace(std::chrono::seconds(settings_.chat_detached_grace_seconds));
  Turn turn;
  turn.question = std::move(request.query);
  turn.creator = std::move(request.creator);
  turn.history = std::move(history);
  turn.conversation_id = cid;
  turn.request_id = rid;
  turn.face = "chat";
  turn.arrived = started;
  if (!face->detachable()) {
    co_await answer(std::move(turn), *face);
    co_return;
  }
  co_await answer_detachable(std::move(turn), std::move(face), ex.take_stream_slot());
}

namespace {

// What a request and the answer it started share while both run.
struct DetachableRun {
  explicit DetachableRun(const net::any_io_executor& ex) : done(ex), unwound(ex), watch(ex) {
    done.expires_at(net::steady_timer::time_point::max());
    unwound.expires_at(net::steady_timer::time_point::max());
  }
  net::steady_timer done;     // cancelled when the answer ends
  net::steady_timer unwound;  // cancelled when a cut write has unwound
  net::steady_timer watch;    // the grace's watch; cancelled when the answer ends
  net::cancellation_signal cut;
  bool finished = false;
  std::exception_ptr error;
};

// Ends a detached answer (cancels what it waits for) once nobody has read
// it for the grace.
net::awaitable<void> watch_detached(std::weak_ptr<NativeFace> weak,
                                    std::shared_ptr<DetachableRun> run) {
  while (!run->finished) {
    const auto face = weak.lock();
    if (!face) co_return;
    if (face->abandoned()) {
      run->cut.emit(net::cancellation_type::terminal);
      co_return;
    }
    run->watch.expires_at(face->abandoned_at());
    co_await run->watch.async_wait(net::as_tuple(net::use_awaitable));
  }
}

}  // namespace

net::awaitable<void> ChatService::answer_detachable(Turn turn, std::shared_ptr<NativeFace> face,
                                                    std::shared_ptr<void> stream_slot) {
  // The answer runs apart from the request, so that the client leaving
  // (which cancels this handler) does not end it: it goes on, kept for
  // readers, while somebody resumes it (SPEC §11, the detached grace).
  const auto ex = co_await net::this_coro::executor;
  auto run = std::make_shared<DetachableRun>(ex);
  face->set_on_unwound([run] { run->unwound.cancel(); });
  // A model that writes nothing is not asked after tokens whether anybody
  // reads on: a watch ends the answer when the grace runs out unread.
  std::weak_ptr<NativeFace> weak = face;
  face->set_on_detached([ex, weak, run] {
    net::co_spawn(ex, watch_detached(weak, run), net::detached);
    run->done.cancel();  // a write to the client failed: the request can end
  });
  // A stop (SPEC §11) ends a silent model's wait at once; only that wait:
  // a write under way, the search and the saving run to their end, and a
  // stop that comes during them is seen after the token.
  face->set_on_stop([weak, run] {
    const auto f = weak.lock();
    if (f && f->is_awaiting_model() && !run->finished) {
      run->cut.emit(net::cancellation_type::terminal);
    }
  });
  net::co_spawn(
      ex,
      // The stream's place under CHAT_MAX_STREAMS goes with the answer: one
      // that goes on detached still holds its model stream, so it counts.
      [this, face, run, turn = std::move(turn),
       stream_slot = std::move(stream_slot)]() mutable -> net::awaitable<void> {
        try {
          co_await answer(std::move(turn), *face);
        } catch (...) {
          run->error = std::current_exception();
        }
        stream_slot.reset();
        run->finished = true;
        run->done.cancel();
        run->watch.cancel();
      },
      net::bind_cancellation_slot(run->cut.slot(), net::detached));
  // (The answer may have run to its end already: co_spawn starts it here.)
  if (!run->finished) co_await run->done.async_wait(net::as_tuple(net::use_awaitable));
  if (run->finished) {
    if (run->error) std::rethrow_exception(run->error);
    co_return;
  }
  // The client left (this handler was cancelled, or a write to it failed).
  // A write to it under way still uses the request's objects, which go
  // when this returns: cut it, and wait for it.
  const bool cut = face->detach();
  co_await net::this_coro::reset_cancellation_state();
  if (cut) {
    run->cut.emit(net::cancellation_type::terminal);
    while (face->writing() && !run->finished) {
      co_await run->unwound.async_wait(net::as_tuple(net::use_awaitable));
      run->unwound.expires_at(net::steady_timer::time_point::max());
    }
  }
}

net::awaitable<void> ChatService::answer(Turn turn, AnswerSink& sink) {
  const std::string& cid = turn.conversation_id;
  const std::string& rid = turn.request_id;
  const ChatPeers peers = peers_();
  co_await sink.begin();
  StreamMetrics metrics(turn.arrived);

  search::SearchRequest search_request{turn.question, turn.creator,
                                       settings_.chat_max_context_sources};
  // A follow-up is searched in the light of the questions before it: made
  // standalone by the model when the operator asks for that and it answers
  // in time, else with the earlier questions as context.
  for (const auto& m : turn.history) {
    if (m.role == "user") search_request.context.push_back(m.content);
  }
  std::string rewrite = "off";
  // Only a model can rewrite: the offline answerer would answer instead.
  if (settings_.chat_rewrite_followups && !settings_.llm_api_url.empty() &&
      !search_request.context.empty()) {
    const auto r =
        co_await rewrite_followup(*peers.llm, settings_.llm_model, search_request.context,
                                  turn.question, settings_.chat_rewrite_timeout);
    rewrite = r.outcome;
    if (r.query) {
      search_request.query = *r.query;
      search_request.context.clear();
    }
  }

  // (No co_await inside a catch block: the error is sent after it.)
  search::SearchResult found;
  bool search_failed = false;
  const auto search_started = Clock::now();
  try {
    found = co_await peers.search->search(search_request);
  } catch (const search::SearchError& e) {
    spdlog::error("chat_search_error query={} creator={} cid={} rid={} error={}",
                  log_value(turn.question), log_value(turn.creator), cid, rid, log_value(e.what()));
    search_failed = true;
  }
  const auto search_ended = Clock::now();
  metrics.search_done(search_started, search_failed);
  if (search_failed) {
    co_await sink.search_failed();
    co_return;
  }
  spdlog::info(
      "chat_search query={} searched={} rewrite={} creator={} cascade_tier={} semantic={} "
      "source_count={} cid={} rid={}",
      log_value(turn.question), log_value(found.searched_query), rewrite, log_value(turn.creator),
      found.cascade_tier, found.semantic.empty() ? "off" : found.semantic, found.items.size(), cid,
      rid);
  // Destroying the completion (the client left, the coroutine unwound)
  // stops the upstream transfer at once; nothing below runs, nothing is saved.
  std::unique_ptr<llm::CompletionStream> completion;
  {
    llm::CompletionRequest completion_request;
    completion_request.messages = build_messages(found.items, turn.history, turn.question);
    // The caller's own system messages come after ours, in their order.
    std::vector<llm::ChatMessage> extra;
    for (auto& text : turn.extra_system) extra.push_back({"system", std::move(text)});
    completion_request.messages.insert(completion_request.messages.begin() + 1,
                                       std::make_move_iterator(extra.begin()),
                                       std::make_move_iterator(extra.end()));
    completion_request.model = settings_.llm_model;
    completion_request.temperature = turn.temperature.value_or(settings_.llm_temperature);
    completion_request.max_tokens = turn.max_tokens.value_or(settings_.llm_max_tokens);
    // Usage is asked for as the operator set it (LLM_STREAM_USAGE: some
    // upstreams refuse stream_options), whatever the caller asked.
    completion_request.stream_usage = settings_.llm_stream_usage;
    completion_request.stop = std::move(turn.stop);
    completion_request.user = std::move(turn.user);
    for (const auto& item : found.items) completion_request.sources.push_back(item.summary);
    completion = peers.llm->start(completion_request);
  }
  // The sources go to the client while the model reads its prompt: the
  // request is on its way first, so the client's first token does not also
  // wait for the sources' serialising and their write.
  {
    Sources sources;
    sources.json = sources_json(found.items);
    sources.refs.reserve(found.items.size());
    for (const auto& item : found.items) {
      sources.refs.push_back({item.title, item.slug, item.section_anchor});
    }
    co_await sink.sources(sources);
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    // Where the time before the sources went (the handler's start is after
    // the request was read): to the open stream, the search, the rest.
    const auto us = [&turn](Clock::time_point t) {
      return std::chrono::duration_cast<std::chrono::microseconds>(t - turn.arrived).count();
    };
    spdlog::debug("chat_timing search_start_us={} search_end_us={} sources_sent_us={} rid={}",
                  us(search_started), us(search_ended), us(Clock::now()), rid);
  }

  // The stream may stay open for minutes, thousands at a time: keep only
  // what its end needs, not the pages and history the prompt was built from.
  const std::size_t source_count = found.items.size();
  std::vector<search::SearchItem>().swap(found.items);
  std::vector<history::Message>().swap(turn.history);

  CitationScanner citations(source_count, turn.keep_markers);
  bool llm_failed = false;
  int llm_status = 0;
  bool stopped = false;
  std::size_t relayed = 0;  // bytes of the answer sent so far
  bool stop_cut = false;    // a stop ended the wait for the model
  try {
    for (;;) {
      // What one read from the model brought leaves in one write, as soon
      // as it is all relayed (not on a later turn of the loop).
      if (!completion->ready()) sink.caught_up();
      sink.awaiting_model(true);
      auto delta = co_await completion->next();
      sink.awaiting_model(false);
      if (!delta) break;
      citations.feed(*delta);
      co_await sink.token(*delta);
      metrics.token();
      relayed += delta->size();
      if (sink.stop_requested()) {
        stopped = true;
        break;
      }
      if (sink.abandoned()) {
        spdlog::info("chat_abandoned cid={} rid={} relayed_bytes={}", cid, rid, relayed);
        co_return;  // the stream's writer ends it as abandoned; the upstream stops
      }
    }
  } catch (const llm::LlmError& e) {
    spdlog::error("chat_llm_error query={} cid={} rid={} status={} error={}",
                  log_value(turn.question), cid, rid, e.status(), log_value(e.what()));
    llm_failed = true;
    llm_status = e.status();
  } catch (const boost::system::system_error& e) {
    // The cut that a stop emits (answer_detachable): the answer ends as
    // stopped. Any other cancellation (the client gone for good) goes on up.
    if (e.code() != net::error::operation_aborted || !sink.stop_requested()) throw;
    stopped = true;
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
  const llm::CompletionResult* whole = &completion->result();
  llm::CompletionResult cut;
  if (stopped) {
    // What the readers got is the answer: the model's text past it (read
    // ahead, not sent) is dropped, and the upstream is stopped now.
    cut = *whole;
    cut.text.resize(relayed);
    cut.finish_reason = "stop";
    whole = &cut;
    completion.reset();
    spdlog::info("chat_stopped cid={} rid={} relayed_bytes={}", cid, rid, relayed);
  }
  const llm::CompletionResult& result = *whole;
  citations.finish();
  metrics.citations(citations.cited().size(), citations.invalid().size());

  Answered answered;
  answered.stopped = stopped;
  answered.text = result.text;
  answered.cascade_tier = std::move(found.cascade_tier);
  answered.searched_query = std::move(found.searched_query);
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
      log_value(turn.question), log_value(turn.creator), answered.cascade_tier, source_count,
      answered.cited.size(), answered.invalid.size(), latency_ms, turn.face, cid, rid);
}

namespace {

constexpr std::string_view kStreamInterrupted = R"({"message":"Stream interrupted"})";

// The seq a reader has seen: Last-Event-ID `{id}-{seq}` (it wins), else
// `?after={seq}`, else 0. nullopt for one that names another stream or no
// number.
std::optional<long long> resume_after(const http::Request& req, const std::string& id) {
  const auto number = [](std::string_view s) -> std::optional<long long> {
    if (s.empty() || s.size() > 15) return std::nullopt;
    long long n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  if (const auto last = req.header("last-event-id")) {
    if (last->size() <= id.size() + 1 || last->substr(0, id.size()) != id ||
        (*last)[id.size()] != '-') {
      return std::nullopt;
    }
    return number(last->substr(id.size() + 1));
  }
  std::string_view query = req.query;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    if (part.rfind("after=", 0) == 0) return number(part.substr(6));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return 0;
}

}  // namespace

net::awaitable<void> ChatService::resume_stream(http::Exchange& ex) {
  const auto& req = ex.request();
  const std::string& id = req.params.at("id");
  const ChatPeers peers = peers_();
  const auto not_found = [&id] {
    return http::json_error(404, "not_found",
                            "There is no chat stream " + id +
                                " to resume: its id is wrong, it belongs to another key, or it "
                                "ended more than CHAT_STREAM_RETENTION_SECONDS ago.");
  };
  if (!history::valid_stream_id(id)) {
    http::Response response = not_found();
    co_await ex.respond(std::move(response));
    co_return;
  }
  const auto after = resume_after(req, id);
  if (!after) {
    http::Response response = http::json_error(
        400, "invalid_field",
        "Last-Event-ID must be " + id + "-<n> (an id this stream sent), or ?after=<n> a number.");
    co_await ex.respond(std::move(response));
    co_return;
  }
  constexpr std::size_t kBatch = 512;
  // Read from the event seen itself, to tell whether it ended the stream.
  std::optional<std::vector<history::KeptEvent>> batch;
  bool failed = false;
  try {
    batch = co_await peers.journal->read(req.owner, id, *after > 0 ? *after - 1 : 0, kBatch);
  } catch (const history::HistoryError& e) {
    spdlog::warn("stream_resume_error stream={} rid={} error={}", id, req.request_id,
                 log_value(e.what()));
    failed = true;
  }
  if (failed || !batch) {
    http::Response response =
        failed ? http::json_error(503, "memory_unavailable",
                                  "Kept streams cannot be read right now; try again shortly.")
               : not_found();
    co_await ex.respond(std::move(response));
    co_return;
  }
  if (*after > 0 && !batch->empty() && batch->front().seq == *after) {
    const bool ended = history::ends_stream(batch->front().event);
    batch->erase(batch->begin());
    if (ended) {
      http::Response none;
      none.status = 204;
      co_await ex.respond(std::move(none));
      co_return;
    }
  }
  std::vector<std::pair<std::string, std::string>> headers = {{"Chrysopedia-Stream-Id", id}};
  auto* events = co_await ex.open_event_stream(std::move(headers));
  spdlog::info("stream_resumed stream={} after={} rid={}", id, *after, req.request_id);
  long long last = *after;
  // Live events are read as they are kept: a short poll. While none come,
  // once a second: is the replica writing it still alive (its liveness key,
  // refreshed by its batches and a heartbeat)? If not, it died mid-answer.
  // And never longer than the longest an answer can take.
  net::steady_timer poll(co_await net::this_coro::executor);
  const auto give_up = Clock::now() + settings_.llm_total_timeout + std::chrono::seconds(30);
  auto next_alive_check = Clock::now() + std::chrono::seconds(1);
  for (;;) {
    for (const auto& e : *batch) {
      const std::string event_id = history::event_id(id, e.seq);
      co_await events->send(e.event, e.data, event_id);
      last = e.seq;
      if (history::ends_stream(e.event)) co_return;
    }
    bool dead = false;
    if (batch->empty() && Clock::now() >= next_alive_check) {
      next_alive_check = Clock::now() + std::chrono::seconds(1);
      try {
        dead = !co_await peers.journal->alive(req.owner, id);
      } catch (const history::HistoryError&) {
        // Redis away: not a sign of the writer's death; asked again later.
      }
      if (dead) {
        // Its last batch may have landed since the read: read once more.
        try {
          batch = co_await peers.journal->read(req.owner, id, last, kBatch);
        } catch (const history::HistoryError&) {
          batch = std::vector<history::KeptEvent>{};
        }
        if (batch && !batch->empty()) continue;
        spdlog::warn("stream_interrupted stream={} last_seq={} rid={}", id, last, req.request_id);
      }
    }
    if (dead || Clock::now() > give_up) {
      const std::string event_id = history::event_id(id, last + 1);
      co_await events->send("error", kStreamInterrupted, event_id);
      co_return;
    }
    if (batch->size() < kBatch) {
      poll.expires_after(std::chrono::milliseconds(25));
      co_await poll.async_wait(net::use_awaitable);
    }
    try {
      batch = co_await peers.journal->read(req.owner, id, last, kBatch);
    } catch (const history::HistoryError&) {
      batch = std::vector<history::KeptEvent>{};  // a blip: try again
    }
    if (!batch) co_return;  // expired while read: nothing more will come
  }
}

net::awaitable<void> ChatService::stop_stream(http::Exchange& ex) {
  const auto& req = ex.request();
  const std::string& id = req.params.at("id");
  const ChatPeers peers = peers_();
  http::Response response;
  response.status = 204;
  std::optional<history::StopOutcome> outcome;
  if (history::valid_stream_id(id)) {
    try {
      outcome = co_await peers.journal->stop(req.owner, id);
    } catch (const history::HistoryError& e) {
      spdlog::warn("stream_stop_error stream={} rid={} error={}", id, req.request_id,
                   log_value(e.what()));
      response = http::json_error(503, "memory_unavailable",
                                  "Kept streams cannot be reached right now; try again shortly.");
    }
  } else {
    outcome = history::StopOutcome::unknown;
  }
  if (outcome == history::StopOutcome::unknown) {
    response = http::json_error(404, "not_found",
                                "There is no chat stream " + id +
                                    " to stop: its id is wrong, it belongs to another key, or it "
                                    "ended more than CHAT_STREAM_RETENTION_SECONDS ago.");
  }
  if (outcome) {
    spdlog::info("stream_stop stream={} outcome={} rid={}", id,
                 *outcome == history::StopOutcome::stopping ? "stopping"
                 : *outcome == history::StopOutcome::ended  ? "ended"
                                                            : "unknown",
                 req.request_id);
  }
  co_await ex.respond(std::move(response));
}

net::awaitable<void> ChatService::get_conversation(http::Exchange& ex) {
  const std::string& id = ex.request().params.at("id");
  http::Response response;
  const ChatPeers peers = peers_();
  if (!valid_conversation_id(id)) {
    response = http::json_error(400, "invalid_field",
                                "The conversation id must be 1-64 letters, digits, '_' or '-'.");
  } else {
    try {
      const auto messages = co_await peers.history->get(stored_id(ex.request().owner, id));
      if (!messages) {
        response = http::json_error(404, "not_found",
                                    "There is no conversation " + id +
                                        "; conversations expire an hour after their last turn.");
      } else {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& m : *messages) list.push_back({{"role", m.role}, {"content", m.content}});
        response.body = nlohmann::json{{"conversation_id", id}, {"messages", list}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    } catch (const history::MemoryOff& e) {
      response = http::json_error(503, "memory_disabled", e.what());
    } catch (const history::HistoryError& e) {
      spdlog::warn("conversation_get_error cid={} error={}", id, log_value(e.what()));
      response =
          http::json_error(503, "memory_unavailable",
                           "Conversation memory is unavailable right now; try again shortly.");
    }
  }
  co_await ex.respond(std::move(response));
}

net::awaitable<void> ChatService::delete_conversation(http::Exchange& ex) {
  const std::string& id = ex.request().params.at("id");
  http::Response response;
  response.status = 204;
  response.content_type = "application/json";
  const ChatPeers peers = peers_();
  if (!valid_conversation_id(id)) {
    response = http::json_error(400, "invalid_field",
                                "The conversation id must be 1-64 letters, digits, '_' or '-'.");
  } else {
    try {
      co_await peers.history->remove(stored_id(ex.request().owner, id));
    } catch (const history::HistoryError& e) {
      spdlog::warn("conversation_delete_error cid={} error={}", id, log_value(e.what()));
      response =
          http::json_error(503, "memory_unavailable",
                           "Conversation memory is unavailable right now; try again shortly.");
    }
  }
  co_await ex.respond(std::move(response));
}

}  // namespace chrysopedia::chat

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

#include "chat/answer_phases.hpp"
#include "chat/chat_metrics.hpp"
#include "chat/chat_request.hpp"
#include "chat/native_face.hpp"
#include "chat/offline_answerer.hpp"
#include "chrysopedia/http/json_error.hpp"
#include "common/log_text.hpp"
#include "common/os_random.hpp"

namespace chrysopedia::chat {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

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

// A chat request made a turn, and the face that answers it.
struct ChatService::OpenedTurn {
  std::unique_ptr<Turn> turn;
  std::shared_ptr<NativeFace> face;
};

net::awaitable<void> ChatService::chat(http::Exchange& ex) {
  // The request's parsing and its conversation's loading happen in a
  // coroutine of their own, whose frame is gone before the answer streams.
  std::unique_ptr<OpenedTurn> opened = co_await open_turn(ex);
  if (!opened) co_return;
  if (!opened->face->detachable()) {
    co_await answer(std::move(*opened->turn), *opened->face);
    co_return;
  }
  co_await answer_detachable(std::move(opened->turn), std::move(opened->face),
                             ex.take_stream_slot());
}

net::awaitable<std::unique_ptr<ChatService::OpenedTurn>> ChatService::open_turn(
    http::Exchange& ex) {
  const auto started = Clock::now();
  const auto& http_request = ex.request();
  auto parsed = parse_chat_request(http_request.header("content-type"), http_request.body);
  if (const auto* err = std::get_if<ChatRequestError>(&parsed)) {
    auto response = http::json_error(err->status, err->code, err->message);
    co_await ex.respond(std::move(response));
    co_return nullptr;
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
      spdlog::warn("chat_history_load_error cid={} rid={} error={}", cid, rid,
                   common::log_quote(e.what()));
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
    co_return nullptr;
  }

  auto opened = std::make_unique<OpenedTurn>();
  NativeFace::Memory memory{peers.history, stored, settings_.chat_history_max_turn_pairs > 0};
  opened->face = std::make_shared<NativeFace>(ex, std::move(memory), request.query, cid, started,
                                              peers.journal->open(http_request.owner));
  opened->face->set_grace(std::chrono::seconds(settings_.chat_detached_grace_seconds));
  opened->turn = std::make_unique<Turn>();
  Turn& turn = *opened->turn;
  turn.question = std::move(request.query);
  turn.creator = std::move(request.creator);
  turn.history = std::move(history);
  turn.conversation_id = cid;
  turn.request_id = rid;
  turn.face = "chat";
  turn.arrived = started;
  co_return opened;
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

net::awaitable<void> ChatService::answer_detachable(std::unique_ptr<Turn> turn,
                                                    std::shared_ptr<NativeFace> face,
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
          co_await answer(std::move(*turn), *face);
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
  const ChatPeers peers = peers_();
  StreamMetrics metrics(turn.arrived);
  std::unique_ptr<AnswerStart> start = co_await begin_answer(settings_, peers, turn, sink, metrics);
  if (!start) co_return;
  co_await relay_answer(turn, *start, sink, metrics);
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
                 common::log_quote(e.what()));
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
                   common::log_quote(e.what()));
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
      spdlog::warn("conversation_get_error cid={} error={}", id, common::log_quote(e.what()));
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
      spdlog::warn("conversation_delete_error cid={} error={}", id, common::log_quote(e.what()));
      response =
          http::json_error(503, "memory_unavailable",
                           "Conversation memory is unavailable right now; try again shortly.");
    }
  }
  co_await ex.respond(std::move(response));
}

}  // namespace chrysopedia::chat

#include "chat/chat_service.hpp"

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "chat/chat_metrics.hpp"
#include "chat/chat_request.hpp"
#include "chat/citation_scanner.hpp"
#include "chat/followup_rewriter.hpp"
#include "chat/offline_answerer.hpp"
#include "chat/prompt.hpp"
#include "chrysopedia/http/json_error.hpp"
#include "common/log_text.hpp"
#include "common/os_random.hpp"

namespace chrysopedia::chat {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kSearchFailed = R"({"message":"Search failed"})";
constexpr std::string_view kLlmFailed = R"({"message":"LLM generation failed"})";

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
  const ChatRequest request = std::get<ChatRequest>(std::move(parsed));
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
  auto* events = co_await ex.open_event_stream();
  StreamMetrics metrics(started);

  search::SearchRequest search_request{request.query, request.creator,
                                       settings_.chat_max_context_sources};
  // A follow-up is searched in the light of the questions before it: made
  // standalone by the model when the operator asks for that and it answers
  // in time, else with the earlier questions as context.
  for (const auto& m : history) {
    if (m.role == "user") search_request.context.push_back(m.content);
  }
  std::string rewrite = "off";
  // Only a model can rewrite: the offline answerer would answer instead.
  if (settings_.chat_rewrite_followups && !settings_.llm_api_url.empty() &&
      !search_request.context.empty()) {
    const auto r =
        co_await rewrite_followup(*peers.llm, settings_.llm_model, search_request.context,
                                  request.query, settings_.chat_rewrite_timeout);
    rewrite = r.outcome;
    if (r.query) {
      search_request.query = *r.query;
      search_request.context.clear();
    }
  }

  // (No co_await inside a catch block: the error event is sent after it.)
  search::SearchResult found;
  bool search_failed = false;
  const auto search_started = Clock::now();
  try {
    found = co_await peers.search->search(search_request);
  } catch (const search::SearchError& e) {
    spdlog::error("chat_search_error query={} creator={} cid={} rid={} error={}",
                  log_value(request.query), log_value(request.creator), cid, rid,
                  log_value(e.what()));
    search_failed = true;
  }
  const auto search_ended = Clock::now();
  metrics.search_done(search_started, search_failed);
  if (search_failed) {
    co_await events->send("error", kSearchFailed);
    co_return;
  }
  spdlog::info(
      "chat_search query={} searched={} rewrite={} creator={} cascade_tier={} semantic={} "
      "source_count={} cid={} rid={}",
      log_value(request.query), log_value(found.searched_query), rewrite,
      log_value(request.creator), found.cascade_tier,
      found.semantic.empty() ? "off" : found.semantic, found.items.size(), cid, rid);
  {
    const std::string sources = sources_json(found.items);
    co_await events->send("sources", sources);
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    // Where the time before the sources went (the handler's start is after
    // the request was read): to the open stream, the search, the rest.
    const auto us = [started](Clock::time_point t) {
      return std::chrono::duration_cast<std::chrono::microseconds>(t - started).count();
    };
    spdlog::debug("chat_timing search_start_us={} search_end_us={} sources_sent_us={} rid={}",
                  us(search_started), us(search_ended), us(Clock::now()), rid);
  }

  // Destroying the completion (the client left, the coroutine unwound)
  // stops the upstream transfer at once; nothing below runs, nothing is saved.
  std::unique_ptr<llm::CompletionStream> completion;
  {
    llm::CompletionRequest completion_request;
    completion_request.messages = build_messages(found.items, history, request.query);
    completion_request.model = settings_.llm_model;
    completion_request.temperature = settings_.llm_temperature;
    completion_request.max_tokens = settings_.llm_max_tokens;
    completion_request.stream_usage = settings_.llm_stream_usage;
    for (const auto& item : found.items) completion_request.sources.push_back(item.summary);
    completion = peers.llm->start(completion_request);
  }
  // The stream may stay open for minutes, thousands at a time: keep only
  // what its end needs, not the pages and history the prompt was built from.
  const std::size_t source_count = found.items.size();
  // What a citation names in `done`: each source's page and section.
  std::vector<std::pair<std::string, std::string>> cited_as;
  cited_as.reserve(source_count);
  for (auto& item : found.items) {
    cited_as.emplace_back(std::move(item.slug), std::move(item.section_anchor));
  }
  std::vector<search::SearchItem>().swap(found.items);
  std::vector<history::Message>().swap(history);

  CitationScanner citations(source_count);
  bool llm_failed = false;
  try {
    while (auto delta = co_await completion->next()) {
      citations.feed(*delta);
      co_await events->send("token", *delta);
      metrics.token();
    }
  } catch (const llm::LlmError& e) {
    spdlog::error("chat_llm_error query={} cid={} rid={} status={} error={}",
                  log_value(request.query), cid, rid, e.status(), log_value(e.what()));
    llm_failed = true;
  }
  if (llm_failed) {
    metrics.llm_failed();
    co_await events->send("error", kLlmFailed);
    co_return;
  }
  const llm::CompletionResult& result = completion->result();
  citations.finish();
  metrics.citations(citations.cited().size(), citations.invalid().size());

  if (settings_.chat_history_max_turn_pairs > 0) {
    try {
      co_await peers.history->append_turn(stored, request.query, result.text);
    } catch (const history::HistoryError& e) {
      spdlog::warn("chat_history_save_error cid={} rid={} error={}", cid, rid, log_value(e.what()));
    }
  }

  const double latency_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  nlohmann::json done = {{"cascade_tier", found.cascade_tier},
                         {"searched_query", found.searched_query},
                         {"conversation_id", cid},
                         {"latency_ms", std::round(latency_ms * 10) / 10}};
  nlohmann::json cited = nlohmann::json::array();
  for (int n : citations.cited()) {
    const auto& [slug, anchor] = cited_as[static_cast<std::size_t>(n - 1)];
    cited.push_back({{"number", n}, {"slug", slug}, {"section_anchor", anchor}});
  }
  done["citations"] = std::move(cited);
  done["invalid_citations"] = citations.invalid();
  if (result.usage) {
    done["usage"] = {{"prompt_tokens", result.usage->prompt_tokens},
                     {"completion_tokens", result.usage->completion_tokens}};
  }
  spdlog::info(
      "chat_done query={} creator={} cascade_tier={} source_count={} citations={} "
      "invalid_citations={} latency_ms={:.1f} cid={} rid={}",
      log_value(request.query), log_value(request.creator), found.cascade_tier, source_count,
      citations.cited().size(), citations.invalid().size(), latency_ms, cid, rid);
  const std::string done_json = done.dump();
  co_await events->send("done", done_json);
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

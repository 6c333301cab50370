#pragma once

// The chat service with fakes of its peers, and helpers to read what a
// request got: shared by the tests of both faces.
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "chat/chat_service.hpp"
#include "chat/offline_answerer.hpp"
#include "fakes/fake_exchange.hpp"
#include "fakes/fake_history_store.hpp"
#include "fakes/fake_llm_client.hpp"
#include "fakes/fake_search_client.hpp"
#include "fakes/fake_stream_journal.hpp"
#include "history/no_history_store.hpp"

namespace chrysopedia::test {

namespace net = boost::asio;
using nlohmann::json;

inline search::SearchItem item(const std::string& slug, const std::string& summary) {
  return {"Title of " + slug, slug, "Kara", "mixing", summary, "", ""};
}

// The service and its fakes; `memory` and `model` off put what the service
// runs without them in their place.
struct Rig {
  config::Settings settings;
  FakeSearchClient search;
  FakeHistoryStore history;
  FakeLlmClient llm;
  FakeStreamJournal journal;
  history::NoHistoryStore no_memory;
  chat::OfflineAnswerer offline;
  bool memory = true;
  bool model = true;
  chat::ChatService service{
      settings, [this] {
        return chat::ChatPeers{&search,
                               memory ? static_cast<history::HistoryStore*>(&history) : &no_memory,
                               model ? static_cast<llm::LlmClient*>(&llm) : &offline, &journal};
      }};

  Rig() {
    search.result = {{item("sidechain-bass", "Duck the bass under the kick."),
                      item("kick-eq", "Cut the kick's mud at 300 Hz.")},
                     "global",
                     ""};
  }

  struct Outcome {
    FakeExchange ex;
    std::exception_ptr error;
  };

  // Runs one chat to its end (or its exception) on a loop of its own.
  std::unique_ptr<Outcome> chat(const json& body, std::optional<std::size_t> gone_after = {},
                                const std::string& content_type = "application/json") {
    return run(
        "/api/v1/chat", body, [this](http::Exchange& ex) { return service.chat(ex); }, gone_after,
        content_type);
  }

  // Runs one request through `handler` the same way.
  template <typename Handler>
  std::unique_ptr<Outcome> run(const std::string& path, const json& body, Handler handler,
                               std::optional<std::size_t> gone_after = {},
                               const std::string& content_type = "application/json") {
    auto out = std::make_unique<Outcome>();
    out->ex.req.method = "POST";
    out->ex.req.path = out->ex.req.target = path;
    out->ex.req.headers = {{"content-type", content_type}};
    out->ex.req.body = body.is_string() ? body.get<std::string>() : body.dump();
    out->ex.req.request_id = "test-rid";
    out->ex.gone_after = gone_after;
    net::io_context ctx;
    net::co_spawn(ctx, handler(out->ex),
                  [&out](std::exception_ptr e) { out->error = std::move(e); });
    ctx.run();
    return out;
  }
};

inline json data_of(const FakeExchange& ex, const std::string& event) {
  const auto* e = ex.find(event);
  return e ? json::parse(e->data) : json();
}

inline std::string tokens_of(const FakeExchange& ex) {
  std::string text;
  for (const auto& e : ex.events) {
    if (e.name == "token") text += e.data;
  }
  return text;
}

}  // namespace chrysopedia::test

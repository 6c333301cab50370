// /readyz asks each peer through its interface: fakes stand in for
// Postgres and Redis, and memory that is off has nothing to wait for.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "app/readiness.hpp"
#include "fakes/fake_exchange.hpp"
#include "fakes/fake_history_store.hpp"
#include "fakes/fake_llm_client.hpp"
#include "fakes/fake_search_client.hpp"
#include "history/no_history_store.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
namespace net = boost::asio;

namespace {

struct Probe {
  int status = 0;
  nlohmann::json body;
};

Probe readyz(search::SearchClient& search, history::HistoryStore& history) {
  FakeLlmClient llm;
  app::Readiness readiness([&] { return chat::ChatPeers{&search, &history, &llm}; });
  FakeExchange ex;
  net::io_context ctx;
  net::co_spawn(ctx, readiness.readyz(ex), net::detached);
  ctx.run();
  return {ex.response->status, nlohmann::json::parse(ex.response->body)};
}

}  // namespace

TEST(Readiness, ReadyWhenEveryPeerAnswers) {
  FakeSearchClient search;
  FakeHistoryStore history;
  const auto r = readyz(search, history);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, nlohmann::json({{"status", "ready"}}));
}

TEST(Readiness, NamesEachPeerThatDoesNotAnswer) {
  FakeSearchClient search;
  FakeHistoryStore history;
  search.fail = true;
  auto r = readyz(search, history);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body["down"], nlohmann::json({"postgres"}));
  history.fail_load = true;
  r = readyz(search, history);
  EXPECT_EQ(r.body["down"], nlohmann::json({"postgres", "redis"}));
  search.fail = false;
  r = readyz(search, history);
  EXPECT_EQ(r.body["down"], nlohmann::json({"redis"}));
}

TEST(Readiness, MemoryThatIsOffIsNothingToWaitFor) {
  FakeSearchClient search;
  history::NoHistoryStore none;
  EXPECT_EQ(readyz(search, none).status, 200);
}

// Resumable chat streams (SPEC §11) against fakes: the ids every event
// carries, what is kept, and GET /api/v1/chat/streams/{id} reading it back
// from any point, with each refusal where SPEC puts it.
#include <gtest/gtest.h>

#include "chat_rig.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
using nlohmann::json;

namespace {

std::string stream_id_of(const FakeExchange& ex) {
  for (const auto& [name, value] : ex.stream_headers) {
    if (name == "Chrysopedia-Stream-Id") return value;
  }
  return "";
}

// GET /api/v1/chat/streams/{id} with the given headers and query.
std::unique_ptr<Rig::Outcome> resume(Rig& rig, const std::string& id,
                                     std::vector<std::pair<std::string, std::string>> headers = {},
                                     const std::string& query = "", const std::string& owner = "") {
  auto out = std::make_unique<Rig::Outcome>();
  out->ex.req.method = "GET";
  out->ex.req.path = "/api/v1/chat/streams/" + id;
  out->ex.req.query = query;
  out->ex.req.headers = std::move(headers);
  out->ex.req.params["id"] = id;
  out->ex.req.owner = owner;
  out->ex.req.request_id = "test-resume";
  net::io_context ctx;
  net::co_spawn(ctx, rig.service.resume_stream(out->ex),
                [&out](std::exception_ptr e) { out->error = std::move(e); });
  ctx.run();
  return out;
}

}  // namespace

TEST(Resume, EveryEventCarriesItsStreamIdAndSeqAndIsKept) {
  Rig rig;
  const auto out = rig.chat({{"query", "bass"}});
  const std::string id = stream_id_of(out->ex);
  ASSERT_EQ(id.size(), 32u);
  ASSERT_EQ(out->ex.events.size(), 5u);
  for (std::size_t i = 0; i < out->ex.events.size(); ++i) {
    EXPECT_EQ(out->ex.events[i].id, id + "-" + std::to_string(i + 1));
  }
  const auto& kept = rig.journal.streams.at("|" + id);
  EXPECT_TRUE(kept.finished);
  ASSERT_EQ(kept.events.size(), 5u);
  EXPECT_EQ(kept.events[1].event, "token");
  EXPECT_EQ(kept.events[4].data, out->ex.events[4].data) << "done, as sent";
}

TEST(Resume, WithoutAJournalThereAreNoIds) {
  Rig rig;
  rig.journal.off = true;
  const auto out = rig.chat({{"query", "bass"}});
  EXPECT_TRUE(out->ex.stream_headers.empty());
  for (const auto& e : out->ex.events) EXPECT_EQ(e.id, "");
  EXPECT_EQ(out->ex.names().back(), "done");
}

TEST(Resume, ReplaysFromTheStartOrAfterTheLastEventSeen) {
  Rig rig;
  const auto chat = rig.chat({{"query", "bass"}});
  const std::string id = stream_id_of(chat->ex);

  const auto all = resume(rig, id);
  ASSERT_TRUE(all->ex.stream_opened);
  ASSERT_EQ(all->ex.events.size(), chat->ex.events.size());
  for (std::size_t i = 0; i < all->ex.events.size(); ++i) {
    EXPECT_EQ(all->ex.events[i].name, chat->ex.events[i].name);
    EXPECT_EQ(all->ex.events[i].data, chat->ex.events[i].data);
    EXPECT_EQ(all->ex.events[i].id, chat->ex.events[i].id);
  }
  EXPECT_EQ(stream_id_of(all->ex), id);

  const auto rest = resume(rig, id, {{"last-event-id", id + "-2"}});
  ASSERT_EQ(rest->ex.events.size(), 3u);
  EXPECT_EQ(rest->ex.events[0].id, id + "-3");
  // Last-Event-ID wins over ?after=.
  const auto both = resume(rig, id, {{"last-event-id", id + "-4"}}, "after=1");
  ASSERT_EQ(both->ex.events.size(), 1u);
  EXPECT_EQ(both->ex.events[0].name, "done");
  const auto query = resume(rig, id, {}, "x=1&after=3");
  EXPECT_EQ(query->ex.events.size(), 2u);
}

TEST(Resume, AnEndedStreamWithNothingLeftIs204) {
  Rig rig;
  const auto chat = rig.chat({{"query", "bass"}});
  const std::string id = stream_id_of(chat->ex);
  const auto none = resume(rig, id, {{"last-event-id", id + "-5"}});
  ASSERT_TRUE(none->ex.response);
  EXPECT_EQ(none->ex.response->status, 204);
  EXPECT_FALSE(none->ex.stream_opened);
}

TEST(Resume, UnknownOrOthersStreamsAre404AndABadLastEventIdIs400) {
  Rig rig;
  const auto chat = rig.chat({{"query", "bass"}});
  const std::string id = stream_id_of(chat->ex);
  for (const std::string& other : {std::string(32, 'f'), std::string("not-an-id"), id + "0"}) {
    const auto r = resume(rig, other);
    ASSERT_TRUE(r->ex.response) << other;
    EXPECT_EQ(r->ex.response->status, 404) << other;
  }
  const auto someone_else = resume(rig, id, {}, "", "key-b");
  ASSERT_TRUE(someone_else->ex.response);
  EXPECT_EQ(someone_else->ex.response->status, 404) << "another key's stream does not exist";
  for (const std::string& bad : {std::string("abc-1"), id + "-x", id + "-", id}) {
    const auto r = resume(rig, id, {{"last-event-id", bad}});
    ASSERT_TRUE(r->ex.response) << bad;
    EXPECT_EQ(r->ex.response->status, 400) << bad;
    EXPECT_EQ(json::parse(r->ex.response->body)["error"]["code"], "invalid_field");
  }
}

TEST(Resume, AStreamWhoseClientLeftEndsAbandonedForItsReaders) {
  Rig rig;
  rig.settings.chat_detached_grace_seconds = 0;       // no grace: at once
  const auto out = rig.chat({{"query", "bass"}}, 2);  // gone after two events
  const std::string id = stream_id_of(out->ex);
  const auto r = resume(rig, id, {{"last-event-id", id + "-1"}});
  ASSERT_FALSE(r->ex.events.empty());
  EXPECT_EQ(r->ex.events.back().name, "error");
  EXPECT_EQ(r->ex.events.back().data, R"({"message":"Stream abandoned"})");
}

TEST(Resume, AStopWhileTheModelIsSilentEndsTheAnswerAtOnceAndSavesWhatWasSent) {
  for (const int grace : {15, 0}) {
    Rig rig;
    rig.settings.chat_detached_grace_seconds = grace;
    rig.llm.deltas = {"Duck ", "the ", "bass."};
    rig.llm.silent_after = 2;  // then nothing for 5 s
    rig.llm.on_silent = [&rig] { rig.journal.stop_all_now(); };
    const auto started = std::chrono::steady_clock::now();
    const auto out = rig.chat({{"query", "bass"}});
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2))
        << "not after the model's silence (grace " << grace << ")";
    EXPECT_FALSE(out->error);
    ASSERT_FALSE(out->ex.events.empty());
    EXPECT_EQ(out->ex.events.back().name, "done");
    EXPECT_EQ(data_of(out->ex, "done")["stopped"], true);
    EXPECT_EQ(tokens_of(out->ex), "Duck the ");
    ASSERT_EQ(rig.history.appends, 1) << "the partial turn saved";
  }
}

TEST(Resume, AStopEndsTheAnswerWithDoneStoppedAndSavesWhatWasSent) {
  Rig rig;
  rig.journal.stop_at = 3;  // asked once sources and two tokens are kept
  const auto out = rig.chat({{"query", "bass"}, {"conversation_id", "stop-1"}});
  ASSERT_FALSE(out->error);
  EXPECT_EQ(out->ex.names(), (std::vector<std::string>{"sources", "token", "token", "done"}));
  const auto done = data_of(out->ex, "done");
  EXPECT_EQ(done["stopped"], true);
  // The partial turn is remembered: what the readers got.
  const auto& kept = rig.history.conversations.at("stop-1");
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1].content, "An answer ");

  // Without a stop, no `stopped` in done.
  rig.journal.stop_at.reset();
  const auto whole = rig.chat({{"query", "bass"}});
  EXPECT_FALSE(data_of(whole->ex, "done").contains("stopped"));
}

TEST(Resume, StopAnswers204ForALiveOrEndedStreamAnd404ForNone) {
  Rig rig;
  const auto chat = rig.chat({{"query", "bass"}});
  const std::string id = stream_id_of(chat->ex);
  const auto stop = [&rig](const std::string& stream, const std::string& owner = "") {
    FakeExchange ex;
    ex.req.method = "POST";
    ex.req.params["id"] = stream;
    ex.req.owner = owner;
    net::io_context ctx;
    net::co_spawn(ctx, rig.service.stop_stream(ex), [](std::exception_ptr) {});
    ctx.run();
    return ex.response ? ex.response->status : 0;
  };
  EXPECT_EQ(stop(id), 204) << "ended: nothing changes";
  EXPECT_FALSE(rig.journal.streams.at("|" + id).stop);
  EXPECT_EQ(stop(std::string(32, 'e')), 404);
  EXPECT_EQ(stop("../etc"), 404);
  EXPECT_EQ(stop(id, "key-b"), 404) << "another key's stream";
  // A live one (made by hand: the fakes finish a chat in one go).
  rig.journal.streams["|" + std::string(32, 'c')];
  EXPECT_EQ(stop(std::string(32, 'c')), 204);
  EXPECT_TRUE(rig.journal.streams.at("|" + std::string(32, 'c')).stop);
}

TEST(Resume, AReaderOfAStreamWhoseReplicaDiedIsToldStreamInterrupted) {
  Rig rig;
  const std::string id(32, 'd');
  auto& s = rig.journal.streams["|" + id];
  s.events = {{1, "sources", "[]"}, {2, "token", "Duck"}};
  s.dead = true;  // its replica stopped refreshing its liveness key
  const auto started = std::chrono::steady_clock::now();
  const auto r = resume(rig, id);
  ASSERT_EQ(r->ex.events.size(), 3u);
  EXPECT_EQ(r->ex.events[1].data, "Duck");
  EXPECT_EQ(r->ex.events[2].name, "error");
  EXPECT_EQ(r->ex.events[2].data, R"({"message":"Stream interrupted"})");
  EXPECT_EQ(r->ex.events[2].id, id + "-3") << "the next id";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

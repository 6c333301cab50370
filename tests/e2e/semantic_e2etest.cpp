// Semantic search through the binary (issue 16, point 4), with the fake as
// the embeddings endpoint: the import embeds with progress and resumes
// after a failure, a database of another model is a start-up error, the
// service fuses what a question means into its sources, and a failing or
// slow endpoint leaves the full-text search, never a failed chat.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "support/chat_client.hpp"
#include "support/child_process.hpp"
#include "support/metrics_scrape.hpp"
#include "support/raw_client.hpp"
#include "support/scratch_files.hpp"
#include "support/service_process.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia::test;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string corpus() {
  return page_line(
             "sidechain-bass", "Sidechain compression for bass", "kara", "Kara", "mixing",
             "Duck the bass under the kick.",
             R"([{"anchor": "setup", "heading": "Setup", "content": "Key it from the kick."}])") +
         "\n" +
         page_line("tape-saturation", "Tape saturation on drums", "milo", "Milo", "mixing",
                   "Warm the drum bus with a tape emulation.",
                   R"([{"anchor": "drive", "heading": "Drive", "content": "Push the input."}])");
}

// What the fake model "understands": a lay phrase means the sidechain page.
std::string meaning(const std::string& text) {
  return text.find("quokka") != std::string::npos ? "Sidechain compression for bass" : text;
}

std::map<std::string, std::string> embeddings_env(const TestDatabase& db, const FakeLlmServer& fake,
                                                  const std::string& model = "fake-embed") {
  return {{"DATABASE_URL", db.url()},
          {"EMBEDDINGS_API_URL", fake.url()},
          {"EMBEDDINGS_MODEL", model},
          {"LOG_LEVEL", "info"}};
}

std::pair<int, std::string> run(const std::vector<std::string>& args,
                                std::map<std::string, std::string> env) {
  std::vector<std::string> argv = {CHRYSOPEDIA_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv, env);
  const auto code = p.wait_exit(60s);
  return {code.value_or(-1), p.output()};
}

RawClient::Response get(std::uint16_t port, const std::string& path) {
  RawClient c(port);
  c.send(make_request("GET", path));
  return c.read_response();
}

bool wait_semantic(std::uint16_t port, const std::string& state) {
  for (const auto until = Clock::now() + 15s; Clock::now() < until;) {
    const auto r = get(port, "/readyz");
    if (json::parse(r.body).value("semantic", "") == state) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

bool has_source(const ChatOutcome& chat, const std::string& slug) {
  const auto* sources = chat.find("sources");
  if (!sources) return false;
  for (const auto& s : json::parse(sources->data)) {
    if (s.value("slug", "") == slug) return true;
  }
  return false;
}

}  // namespace

TEST(Semantic, TheImportEmbedsAndTheServiceFindsWhatAQuestionMeans) {
  TestDatabase db;
  FakeLlmServer fake;
  fake.set_embeddings_handler(
      [](const RecordedRequest& r) { return embeddings_reply(r, 32, meaning); });
  TempJsonl file(corpus());
  const auto [code, out] = run({"import", file.path}, embeddings_env(db, fake));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("embeddings: 4 of 4 document(s) to embed with fake-embed"), std::string::npos)
      << out;
  EXPECT_NE(out.find("all 4 document(s) have a vector"), std::string::npos) << out;
  EXPECT_NE(out.find("semantic index: built and stored"), std::string::npos) << out;
  ASSERT_FALSE(fake.embedding_requests().empty());
  EXPECT_EQ(json::parse(fake.embedding_requests()[0].body)["model"], "fake-embed");

  auto env = embeddings_env(db, fake);
  env["LLM_API_URL"] = fake.url();
  ServiceProcess service(env);
  ASSERT_TRUE(wait_semantic(service.port(), "ready")) << service.process().output();
  EXPECT_EQ(get(service.port(), "/readyz").status, 200);
  // The index the import built, not one of its own.
  EXPECT_NE(service.process().output().find("source=stored documents=4"), std::string::npos)
      << service.process().output();

  // No word of it is in any page: full text alone finds nothing.
  const auto chat = post_chat(service.port(), chat_body("what about the quokka zebra thing"));
  ASSERT_TRUE(chat.find("done")) << service.process().output();
  EXPECT_TRUE(has_source(chat, "sidechain-bass"));
  EXPECT_NE(service.process().output().find("cascade_tier=semantic semantic=fused"),
            std::string::npos);
  EXPECT_EQ(json::parse(fake.embedding_requests().back().body)["input"][0],
            "what about the quokka zebra thing");
  EXPECT_GE(metric_sample(get(service.port(), "/metrics").body,
                          "chrysopedia_semantic_searches_total{outcome=\"fused\"}"),
            1);
  EXPECT_GE(
      metric_sample(get(service.port(), "/metrics").body, "chrysopedia_semantic_index_documents"),
      4);
}

TEST(Semantic, AFailingOrSlowEndpointLeavesTheFullTextSearch) {
  TestDatabase db;
  FakeLlmServer fake;
  TempJsonl file(corpus());
  ASSERT_EQ(run({"import", file.path}, embeddings_env(db, fake)).first, 0);
  auto env = embeddings_env(db, fake);
  env["LLM_API_URL"] = fake.url();
  env["EMBEDDINGS_TIMEOUT_SECONDS"] = "0.3";
  ServiceProcess service(env);
  ASSERT_TRUE(wait_semantic(service.port(), "ready"));

  fake.set_embeddings_handler(
      [](const RecordedRequest&) { return error_reply(500, "model gone"); });
  const auto failed = post_chat(service.port(), chat_body("sidechain"));
  ASSERT_TRUE(failed.find("done"));
  EXPECT_TRUE(has_source(failed, "sidechain-bass"));
  // Ready all the same, and saying what it is missing.
  const auto ready = get(service.port(), "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(json::parse(ready.body)["semantic"], "endpoint_failing");
  EXPECT_EQ(metric_sample(get(service.port(), "/metrics").body, "chrysopedia_semantic_endpoint_up"),
            0);

  fake.set_embeddings_handler([](const RecordedRequest& r) {
    auto reply = embeddings_reply(r, 64);
    reply.chunks.insert(reply.chunks.begin(), FakeReply::Chunk{5s, ""});
    return reply;
  });
  const auto started = Clock::now();
  const auto slow = post_chat(service.port(), chat_body("sidechain"));
  EXPECT_LT(Clock::now() - started, 3s) << "the embedding's time budget, not the endpoint's pace";
  ASSERT_TRUE(slow.find("done"));
  EXPECT_TRUE(has_source(slow, "sidechain-bass"));

  const auto metrics = get(service.port(), "/metrics").body;
  EXPECT_EQ(metric_sample(metrics, "chrysopedia_semantic_searches_total{outcome=\"failed\"}"), 1)
      << service.process().output();
  EXPECT_EQ(metric_sample(metrics, "chrysopedia_semantic_searches_total{outcome=\"timeout\"}"), 1);
  EXPECT_NE(service.process().output().find("semantic_search_failed"), std::string::npos);

  fake.set_embeddings_handler([](const RecordedRequest& r) { return embeddings_reply(r, 64); });
  ASSERT_TRUE(post_chat(service.port(), chat_body("sidechain")).find("done"));
  EXPECT_EQ(json::parse(get(service.port(), "/readyz").body)["semantic"], "ready");
  EXPECT_EQ(metric_sample(get(service.port(), "/metrics").body, "chrysopedia_semantic_endpoint_up"),
            1);
}

TEST(Semantic, AStoppedPassResumesAndAnotherModelNeedsARebuild) {
  TestDatabase db;
  FakeLlmServer fake;
  std::atomic<int> calls{0};
  fake.set_embeddings_handler([&calls](const RecordedRequest& r) {
    // One batch goes through; then the endpoint fails (each try of the rest).
    return ++calls == 1 ? embeddings_reply(r, 16) : error_reply(503, "overloaded");
  });
  TempJsonl file(corpus());
  auto env = embeddings_env(db, fake);
  env["EMBEDDINGS_BATCH_SIZE"] = "1";
  const auto [code, out] = run({"import", file.path}, env);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("imported 2 page(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("1 of 4 embedded and kept; run `chrysopedia-chat embed`"), std::string::npos)
      << out;

  fake.set_embeddings_handler([](const RecordedRequest& r) { return embeddings_reply(r, 16); });
  const auto [rcode, rout] = run({"embed"}, env);
  EXPECT_EQ(rcode, 0) << rout;
  EXPECT_NE(rout.find("3 of 4 document(s) to embed"), std::string::npos) << rout;

  auto other = env;
  other["EMBEDDINGS_MODEL"] = "other-model";
  const auto [mcode, mout] = run({"embed"}, other);
  EXPECT_EQ(mcode, 1) << mout;
  EXPECT_NE(mout.find("holds embeddings of model 'fake-embed'"), std::string::npos) << mout;

  // The service will not serve another model's vectors either.
  auto serve_env = other;
  serve_env["PORT"] = "0";
  serve_env["HOST"] = "127.0.0.1";
  const auto [scode, sout] = run({"serve"}, serve_env);
  EXPECT_EQ(scode, 1) << sout;
  EXPECT_NE(sout.find("embed --rebuild"), std::string::npos) << sout;

  const auto [bcode, bout] = run({"embed", "--rebuild"}, other);
  EXPECT_EQ(bcode, 0) << bout;
  EXPECT_NE(bout.find("4 of 4 document(s) to embed with other-model"), std::string::npos) << bout;
  EXPECT_EQ(run({"embed", "--everything"}, other).first, 2);
}

TEST(Semantic, EmbeddingsNeedAModelName) {
  const auto [code, out] = run({"migrate"}, {{"EMBEDDINGS_API_URL", "http://127.0.0.1:9/v1"},
                                             {"DATABASE_URL", "postgresql://127.0.0.1:1/x"}});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("EMBEDDINGS_MODEL is empty"), std::string::npos) << out;
}

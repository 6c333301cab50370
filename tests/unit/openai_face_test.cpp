// The OpenAI-compatible face's pieces that stand alone: a source's URL from
// SOURCE_URL_TEMPLATE, and the model list.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "chrysopedia/http/json_error.hpp"
#include "fakes/fake_exchange.hpp"
#include "openai/chunks.hpp"
#include "openai/models_route.hpp"
#include "openai/source_url.hpp"

using namespace chrysopedia;

TEST(SourceUrl, FillsSlugAndAnchorAndDropsTheFragmentForAPage) {
  const std::string def = "/techniques/{slug}#{anchor}";
  EXPECT_EQ(openai::source_url(def, "sidechain-bass", "release"),
            "/techniques/sidechain-bass#release");
  EXPECT_EQ(openai::source_url(def, "sidechain-bass", ""), "/techniques/sidechain-bass");
  EXPECT_EQ(openai::source_url("https://x.example/t/{slug}?s={anchor}", "a", "b"),
            "https://x.example/t/a?s=b");
}

TEST(ModelsRoute, ListsTheOneModelAsOpenAiDoes) {
  const auto started = std::chrono::system_clock::time_point(std::chrono::seconds(1764900000));
  openai::ModelsRoute route(started);
  test::FakeExchange ex;
  boost::asio::io_context ctx;
  boost::asio::co_spawn(ctx, route.models(ex), boost::asio::detached);
  ctx.run();
  ASSERT_TRUE(ex.response);
  EXPECT_EQ(ex.response->status, 200);
  EXPECT_EQ(ex.response->content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(ex.response->body), nlohmann::json::parse(R"({
    "object": "list",
    "data": [{"id": "chrysopedia", "object": "model", "created": 1764900000,
              "owned_by": "chrysopedia"}]})"));
}

TEST(Chunks, AreOpenAisWireFormatByteForByte) {
  const openai::ChunkEncoder encoder({"chatcmpl-abc", 1764900000});
  const std::string head =
      R"({"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1764900000,)"
      R"("model":"chrysopedia","system_fingerprint":null,)";
  EXPECT_EQ(encoder.role(),
            head + R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},)"
                   R"("logprobs":null,"finish_reason":null}]})");
  std::string out;
  encoder.append_content(out, "Duck \"it\"\n");
  EXPECT_EQ(out, head + R"("choices":[{"index":0,"delta":{"content":"Duck \"it\"\n"},)"
                        R"("logprobs":null,"finish_reason":null}]})");
  EXPECT_EQ(encoder.last("length", {"/t/a", "/t/b#c"}, R"([{"number":1},{"number":2}])"),
            head + R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}],)"
                   R"("citations":["/t/a","/t/b#c"],"sources":[{"number":1},{"number":2}]})");
  EXPECT_EQ(encoder.usage(std::nullopt), head + R"("choices":[],"usage":null})");
}

TEST(Chunks, FinishReasonsAreThoseClientsKnow) {
  EXPECT_EQ(openai::finish_reason("stop"), "stop");
  EXPECT_EQ(openai::finish_reason("length"), "length");
  EXPECT_EQ(openai::finish_reason("content_filter"), "content_filter");
  EXPECT_EQ(openai::finish_reason(""), "stop");
  EXPECT_EQ(openai::finish_reason("eos_token"), "stop");
}

TEST(Chunks, IdsAreUnguessableAndDistinct) {
  const auto a = openai::new_completion_head();
  const auto b = openai::new_completion_head();
  EXPECT_EQ(a.id.size(), 9u + 24u);
  EXPECT_NE(a.id, b.id);
  EXPECT_GT(a.created, 1'700'000'000);
}

TEST(Chunks, CodePointOffsetsCountCharactersNotBytes) {
  // "é" two bytes, "€" three, "𝄞" four.
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E[1]";
  EXPECT_EQ(openai::code_point_offsets(text, {0, 1, 3, 6, 10, 13}),
            (std::vector<std::size_t>{0, 1, 2, 3, 4, 7}));
}

TEST(ErrorBodies, CarryOpenAisTypeAndParamBesideCodeAndMessage) {
  const auto body = [](int status) {
    return nlohmann::json::parse(http::json_error(status, "c", "m").body)["error"];
  };
  EXPECT_EQ(body(400),
            nlohmann::json::parse(
                R"({"code":"c","message":"m","type":"invalid_request_error","param":null})"));
  EXPECT_EQ(body(401)["type"], "authentication_error");
  EXPECT_EQ(body(429)["type"], "rate_limit_error");
  EXPECT_EQ(body(503)["type"], "server_error");
}

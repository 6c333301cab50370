// The OpenAI-compatible face's pieces that stand alone: a source's URL from
// SOURCE_URL_TEMPLATE, and the model list.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "fakes/fake_exchange.hpp"
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

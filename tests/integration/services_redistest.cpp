// The Redis that scripts/test starts is real, reachable and throwaway.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include <hiredis/hiredis.h>

#include "common/url.hpp"

TEST(TestRedis, AnswersAndKeepsNothingOnDisk) {
  const char* url = std::getenv("CHRYSOPEDIA_TEST_REDIS_URL");
  ASSERT_TRUE(url) << "CHRYSOPEDIA_TEST_REDIS_URL is not set: run the tests with scripts/test";
  const auto parts = chrysopedia::common::parse_url(url);
  ASSERT_TRUE(parts && parts->port);
  std::unique_ptr<redisContext, decltype(&redisFree)> ctx(
      redisConnect(parts->host.c_str(), *parts->port), &redisFree);
  ASSERT_TRUE(ctx && !ctx->err) << (ctx ? ctx->errstr : "no context");

  auto command = [&](const char* fmt, auto... args) {
    return std::unique_ptr<redisReply, decltype(&freeReplyObject)>(
        static_cast<redisReply*>(redisCommand(ctx.get(), fmt, args...)), &freeReplyObject);
  };
  auto pong = command("PING");
  ASSERT_TRUE(pong);
  EXPECT_STREQ(pong->str, "PONG");
  command("SET %s %s", "chrysopedia:test:k", "v");
  EXPECT_STREQ(command("GET %s", "chrysopedia:test:k")->str, "v");
  command("DEL %s", "chrysopedia:test:k");
  auto save = command("CONFIG GET save");
  ASSERT_EQ(save->elements, 2u);
  EXPECT_STREQ(save->element[1]->str, "") << "test Redis must not persist";
}

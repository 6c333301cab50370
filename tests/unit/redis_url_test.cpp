#include <gtest/gtest.h>

#include "chrysopedia/config/redis_url.hpp"

using chrysopedia::config::parse_redis_url;

TEST(RedisUrl, TcpWithAuthAndDb) {
  const auto e = parse_redis_url("redis://app:p%40ss@cache:6380/4");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->unix_socket);
  EXPECT_EQ(e->host, "cache");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->user, "app");
  EXPECT_EQ(e->password, "p@ss");
  EXPECT_EQ(e->db, 4);
}

TEST(RedisUrl, Defaults) {
  const auto e = parse_redis_url("redis://localhost");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->db, 0);
  EXPECT_EQ(e->password, "");
  const auto pw_only = parse_redis_url("redis://:secret@h:1/0");
  ASSERT_TRUE(pw_only);
  EXPECT_EQ(pw_only->user, "");
  EXPECT_EQ(pw_only->password, "secret");
}

TEST(RedisUrl, UnixSocket) {
  const auto e = parse_redis_url("unix:///var/run/redis/redis.sock?db=2&password=x");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->unix_socket);
  EXPECT_EQ(e->path, "/var/run/redis/redis.sock");
  EXPECT_EQ(e->db, 2);
  EXPECT_EQ(e->password, "x");
}

TEST(RedisUrl, RefusesMalformed) {
  for (const char* bad :
       {"", "localhost:6379", "http://h", "redis://", "redis://h/x", "redis://h/-1", "unix://",
        "unix:///s?db=x", "unix:///s?what=1", "redis://h:99999"}) {
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
  }
}

// Found by fuzz/url_fuzzer: the splitter ends the authority at '#' too, so
// `unix://#/s` gave the relative socket path "#/s".
TEST(RedisUrl, UnixSocketPathMustBeAbsolute) {
  for (const char* bad : {"unix://#/run/redis.sock", "unix://?/s", "unix://#x"}) {
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
  }
  EXPECT_TRUE(parse_redis_url("unix://localhost/run/redis.sock"));
}

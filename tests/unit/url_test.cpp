#include <gtest/gtest.h>

#include "common/url.hpp"

using chrysopedia::common::parse_url;

TEST(Url, SplitsTheParts) {
  const auto u = parse_url("Redis://user:p%40ss@cache.local:6380/3?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "redis");
  EXPECT_EQ(u->user, "user");
  EXPECT_EQ(u->password, "p%40ss");
  EXPECT_EQ(u->host, "cache.local");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->path, "/3");
  EXPECT_EQ(u->query, "x=1");
}

TEST(Url, HandlesIpv6UnixAndMissingParts) {
  auto v6 = parse_url("http://[::1]:8080/v1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  auto unix_url = parse_url("unix:///var/run/redis.sock");
  ASSERT_TRUE(unix_url);
  EXPECT_EQ(unix_url->host, "");
  EXPECT_EQ(unix_url->path, "/var/run/redis.sock");
  auto bare = parse_url("postgresql://localhost");
  ASSERT_TRUE(bare);
  EXPECT_FALSE(bare->port);
  EXPECT_FALSE(bare->password);
  EXPECT_EQ(bare->path, "");
}

TEST(Url, RefusesMalformedUrls) {
  for (const char* bad :
       {"", "localhost:6379", "://host", "1http://x", "http://h:/", "http://h:0", "http://h:65536",
        "http://h:12ab", "http://[::1", "http://[::1]x", "http://h ost/", "http://h/\n"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
}

TEST(Url, PercentDecode) {
  std::string out;
  EXPECT_TRUE(chrysopedia::common::percent_decode("plain", out));
  EXPECT_EQ(out, "plain");
  EXPECT_TRUE(chrysopedia::common::percent_decode("%41%62c", out));
  EXPECT_EQ(out, "Abc");
  EXPECT_FALSE(chrysopedia::common::percent_decode("%", out));
  EXPECT_FALSE(chrysopedia::common::percent_decode("%4", out));
  EXPECT_FALSE(chrysopedia::common::percent_decode("%G1", out));
}

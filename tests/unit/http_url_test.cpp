// Which upstream URLs the native HTTP client takes, and what it makes of them.
#include <gtest/gtest.h>

#include <cstdlib>

#include "llm/http_transport.hpp"

using chrysopedia::llm::AsioHttpTransport;
using chrysopedia::llm::parse_http_url;

TEST(HttpUrl, SplitsHostPortAndTarget) {
  const auto u = parse_http_url("http://ollama:11434/v1/chat/completions");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "ollama");
  EXPECT_EQ(u->port, "11434");
  EXPECT_EQ(u->target, "/v1/chat/completions");
  EXPECT_EQ(u->authority, "ollama:11434");
}

TEST(HttpUrl, DefaultsPortAndPath) {
  const auto u = parse_http_url("HTTP://example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(parse_http_url("http://h?x=1")->target, "/?x=1");
  EXPECT_EQ(parse_http_url("http://h/a?x=1#frag")->target, "/a?x=1");
}

TEST(HttpUrl, TakesBracketedIpv6) {
  const auto u = parse_http_url("http://[::1]:8080/v1/chat/completions");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->authority, "[::1]:8080");
}

TEST(HttpUrl, LeavesEverythingElseToCurl) {
  EXPECT_FALSE(parse_http_url("https://api.openai.com/v1/chat/completions"));
  EXPECT_FALSE(parse_http_url("http://user:secret@host/v1"));  // credentials
  EXPECT_FALSE(parse_http_url("http:///v1"));
  EXPECT_FALSE(parse_http_url("http://host:99999/v1"));
  EXPECT_FALSE(parse_http_url("http://host:0/v1"));
  EXPECT_FALSE(parse_http_url("http://host:8a/v1"));
  EXPECT_FALSE(parse_http_url("http://[::1/v1"));
  EXPECT_FALSE(parse_http_url("http://::1/v1"));
  EXPECT_FALSE(parse_http_url("ftp://host/"));
}

TEST(HttpUrl, AProxyInTheEnvironmentSendsPlainHttpThroughCurl) {
  EXPECT_TRUE(AsioHttpTransport::handles("http://127.0.0.1:1/v1/chat/completions"));
  ::setenv("http_proxy", "http://proxy:3128", 1);
  EXPECT_FALSE(AsioHttpTransport::handles("http://127.0.0.1:1/v1/chat/completions"));
  ::unsetenv("http_proxy");
  ::setenv("ALL_PROXY", "socks5://proxy:1080", 1);
  EXPECT_FALSE(AsioHttpTransport::handles("http://127.0.0.1:1/v1/chat/completions"));
  ::unsetenv("ALL_PROXY");
  EXPECT_TRUE(AsioHttpTransport::handles("http://127.0.0.1:1/v1/chat/completions"));
}

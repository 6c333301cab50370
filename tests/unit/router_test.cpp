#include <gtest/gtest.h>

#include "chrysopedia/http/router.hpp"

using namespace chrysopedia::http;

namespace {

Handler noop() {
  return [](Exchange&) -> boost::asio::awaitable<void> { co_return; };
}

}  // namespace

TEST(Router, MatchesLiteralsAndPlaceholders) {
  Router r;
  r.add("GET", "/healthz", noop());
  r.add("POST", "/api/v1/chat", noop());
  r.add("GET", "/api/v1/conversations/{id}", noop());
  r.add("DELETE", "/api/v1/conversations/{id}", noop());

  EXPECT_TRUE(r.match("GET", "/healthz").handler);
  EXPECT_TRUE(r.match("POST", "/api/v1/chat").handler);
  auto m = r.match("GET", "/api/v1/conversations/abc-123");
  ASSERT_TRUE(m.handler);
  EXPECT_EQ(m.params.at("id"), "abc-123");
  EXPECT_TRUE(m.allowed.empty());
}

TEST(Router, DistinguishesNotFoundFromMethodNotAllowed) {
  Router r;
  r.add("GET", "/api/v1/conversations/{id}", noop());
  r.add("DELETE", "/api/v1/conversations/{id}", noop());
  r.add("POST", "/api/v1/chat", noop());

  auto wrong_method = r.match("PUT", "/api/v1/conversations/x");
  EXPECT_FALSE(wrong_method.handler);
  EXPECT_EQ(wrong_method.allowed, (std::vector<std::string>{"GET", "DELETE"}));

  auto missing = r.match("GET", "/api/v1/nothing");
  EXPECT_FALSE(missing.handler);
  EXPECT_TRUE(missing.allowed.empty());

  EXPECT_FALSE(r.match("GET", "/api/v1/chat/").handler) << "a trailing slash is another path";
  EXPECT_TRUE(r.match("GET", "/api/v1/chat/").allowed.empty());
  EXPECT_FALSE(r.match("GET", "/api/v1/conversations/").handler) << "placeholders need a value";
  EXPECT_FALSE(r.match("get", "/api/v1/chat").handler) << "methods are case-sensitive";
}

TEST(Router, DecodesPlaceholderValues) {
  Router r;
  r.add("GET", "/c/{id}", noop());
  EXPECT_EQ(r.match("GET", "/c/a%20b").params.at("id"), "a b");
  EXPECT_EQ(r.match("GET", "/c/%E2%9C%93").params.at("id"), "\xE2\x9C\x93");
  EXPECT_FALSE(r.match("GET", "/c/%zz").handler) << "a bad escape matches nothing";
  EXPECT_FALSE(r.match("GET", "/c/%2").handler);
  EXPECT_FALSE(r.match("GET", "/c/a/b").handler) << "a placeholder is one segment";
}

TEST(Router, ReportsThePatternNotThePathForMetrics) {
  Router r;
  r.add("GET", "/api/v1/conversations/{id}", noop());
  EXPECT_EQ(r.match("GET", "/api/v1/conversations/abc").pattern, "/api/v1/conversations/{id}");
  EXPECT_EQ(r.match("PUT", "/api/v1/conversations/abc").pattern, "/api/v1/conversations/{id}")
      << "a 405 still names its route";
  EXPECT_EQ(r.match("GET", "/nothing").pattern, "");
}

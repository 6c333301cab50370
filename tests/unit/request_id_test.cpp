#include <gtest/gtest.h>

#include <set>

#include "chrysopedia/observability/request_id.hpp"

using namespace chrysopedia::observability;

TEST(RequestId, FreshIdsAreHexAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = make_request_id();
    EXPECT_EQ(id.size(), 16u);
    EXPECT_TRUE(acceptable_request_id(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RequestId, OnlySafeClientIdsAreAdopted) {
  EXPECT_TRUE(acceptable_request_id("3f1c0d2e-aaaa-4bbb-8ccc-123456789abc"));
  EXPECT_TRUE(acceptable_request_id("req_1.2"));
  EXPECT_FALSE(acceptable_request_id(""));
  EXPECT_FALSE(acceptable_request_id("has space"));
  EXPECT_FALSE(acceptable_request_id("new\nline"));
  EXPECT_FALSE(acceptable_request_id("quote\"d"));
  EXPECT_FALSE(acceptable_request_id(std::string(65, 'a')));
}

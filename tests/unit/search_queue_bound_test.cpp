// The search pool's queue bound follows the stream cap: a burst of as many
// chats as may be open waits for a connection instead of failing.
#include <gtest/gtest.h>

#include "search/pg_pool.hpp"

using chrysopedia::search::search_queue_bound;

TEST(SearchQueueBound, HoldsASearchForEveryChatThatMayBeOpen) {
  EXPECT_EQ(search_queue_bound(10'000), 10'000u) << "the default cap";
  EXPECT_EQ(search_queue_bound(50'000), 50'000u);
  EXPECT_EQ(search_queue_bound(10), 1024u) << "never below the old fixed bound";
  EXPECT_EQ(search_queue_bound(0), 65'536u) << "no cap: a bound against runaway memory";
}

// Which Postgres a search reads from: hot standbys in turn once a check
// found them current, the primary when none is; a standby that fails or
// lags is skipped until a check finds it well again.
#include <gtest/gtest.h>

#include "search/replica_set.hpp"

using namespace chrysopedia::search;
using namespace std::chrono_literals;

namespace {

const auto t0 = ReplicaSet::Clock::time_point{} + 1h;

}  // namespace

TEST(ReplicaSet, NoStandbyOrNoneCheckedYetMeansThePrimary) {
  ReplicaSet none(0, 5s);
  EXPECT_EQ(none.pick(), ReplicaSet::kPrimary);
  EXPECT_TRUE(none.due_checks(t0).empty());
  ReplicaSet two(2, 5s);
  EXPECT_EQ(two.pick(), ReplicaSet::kPrimary) << "not used before a check says it is current";
  EXPECT_EQ(two.due_checks(t0), (std::vector<std::size_t>{0, 1}));
  EXPECT_TRUE(two.due_checks(t0).empty()) << "a check under way is not started twice";
}

TEST(ReplicaSet, CurrentStandbysTakeTurns) {
  ReplicaSet set(2, 5s);
  set.due_checks(t0);
  set.checked(0, 0ms, t0);
  set.checked(1, 4s, t0);
  std::vector<int> picks;
  for (int i = 0; i < 4; ++i) picks.push_back(set.pick());
  EXPECT_EQ(picks, (std::vector<int>{0, 1, 0, 1}));
  EXPECT_EQ(set.usable_count(), 2u);
}

TEST(ReplicaSet, ALaggingStandbyIsSkippedUntilItCatchesUp) {
  ReplicaSet set(2, 5s);
  set.due_checks(t0);
  set.checked(0, 0ms, t0);
  set.checked(1, 6s, t0);
  EXPECT_EQ(set.pick(), 0);
  EXPECT_EQ(set.pick(), 0);
  EXPECT_TRUE(set.due_checks(t0 + 500ms).empty());
  EXPECT_EQ(set.due_checks(t0 + ReplicaSet::kCheckEvery), (std::vector<std::size_t>{0, 1}));
  set.checked(1, 1s, t0 + 1s);
  set.checked(0, 0ms, t0 + 1s);
  EXPECT_EQ(set.usable_count(), 2u);
}

TEST(ReplicaSet, AFailedSearchOrCheckTakesAStandbyOutForAWhile) {
  ReplicaSet set(1, 5s);
  set.due_checks(t0);
  set.checked(0, 0ms, t0);
  EXPECT_EQ(set.pick(), 0);
  set.failed(0, t0 + 100ms);
  EXPECT_EQ(set.pick(), ReplicaSet::kPrimary) << "not waited on again";
  EXPECT_TRUE(set.due_checks(t0 + 2s).empty()) << "left alone for a while";
  ASSERT_EQ(set.due_checks(t0 + 100ms + ReplicaSet::kRetryFailedAfter).size(), 1u);
  set.checked(0, std::nullopt, t0 + 6s);  // still down (or not streaming)
  EXPECT_EQ(set.pick(), ReplicaSet::kPrimary);
  EXPECT_TRUE(set.due_checks(t0 + 7s).empty());
  ASSERT_EQ(set.due_checks(t0 + 6s + ReplicaSet::kRetryFailedAfter).size(), 1u);
  set.checked(0, 0ms, t0 + 11s);
  EXPECT_EQ(set.pick(), 0) << "back once a check finds it well";
}

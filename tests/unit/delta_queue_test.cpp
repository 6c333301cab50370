#include "llm/delta_queue.hpp"

#include <string>

#include <gtest/gtest.h>

namespace chrysopedia::llm {
namespace {

TEST(DeltaQueue, GivesTheDeltasBackInOrderAndCountsTheirBytes) {
  DeltaQueue q;
  EXPECT_TRUE(q.empty());
  q.push("Sidechain ");
  q.push("the bass");
  q.push("");
  EXPECT_EQ(q.bytes(), 18u);
  EXPECT_EQ(q.take(), "Sidechain ");
  EXPECT_EQ(q.bytes(), 8u);
  q.push(" [1]");
  EXPECT_EQ(q.take(), "the bass");
  EXPECT_EQ(q.take(), "");
  EXPECT_EQ(q.take(), " [1]");
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

// At a model's pace one delta waits at a time, on thousands of streams for
// minutes: the queue keeps a slot or two, not a block, and what a burst
// grew goes once it is drained.
TEST(DeltaQueue, KeepsASlotAtAModelsPaceABurstsSlotsForTheNextAndGivesBackAFloods) {
  DeltaQueue q;
  for (int i = 0; i < 1000; ++i) {
    q.push("token");
    EXPECT_EQ(q.take(), "token");
  }
  EXPECT_LE(q.capacity(), 1u);
  for (int i = 0; i < 100; ++i) q.push("t");
  for (int i = 0; i < 100; ++i) q.take();
  const auto burst = q.capacity();
  EXPECT_GE(burst, 100u);
  q.push("t");
  q.take();
  EXPECT_EQ(q.capacity(), burst) << "kept for the next burst";
  for (int i = 0; i < 5000; ++i) q.push(std::to_string(i));
  EXPECT_GE(q.capacity(), 5000u);
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(q.take(), std::to_string(i));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.capacity(), 0u);
}

}  // namespace
}  // namespace chrysopedia::llm

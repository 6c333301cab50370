#include <gtest/gtest.h>

#include "search/followup.hpp"

using namespace chrysopedia::search;

TEST(FollowUp, IsSearchedWithTheQuestionBeforeIt) {
  EXPECT_EQ(contextual_query("and on the snare?", {"old", "reverb pre-delay on a vocal"}),
            "and on the snare? reverb pre-delay on a vocal");
  EXPECT_EQ(contextual_query("how many voices?", {}), "how many voices?") << "no conversation";
}

TEST(FollowUp, AQuestionThatSaysItChangesTheSubjectIsSearchedAlone) {
  for (const char* q :
       {"ok different question: how do I master for spotify?",
        "Unrelated, but how do people finish tracks", "btw what is dither",
        "switching topics, how long should a chorus be", "nvm that, how loud should my monitors be",
        "New question - foley?", "Random q, what swing for house"}) {
    EXPECT_TRUE(changes_subject(q)) << q;
    EXPECT_EQ(contextual_query(q, {"sidechain the bass"}), q);
  }
  for (const char* q : {"does the same trick work on vocals?", "what about a different kick",
                        "how do I make it sound unrelated to the original", "subtle btwn"}) {
    EXPECT_FALSE(changes_subject(q)) << q;
  }
}

TEST(FollowUp, AQuestionThatPointsBackIsTold) {
  for (const char* q :
       {"and for vocals?", "And the outro, can I fade?", "what about a guy with a deep voice",
        "How about the snare", "should it go before the eq?", "how loud do I blend that in",
        "how wide should I pan them", "does the same trick work on vocals",
        "can I fake it's tail with a delay instead", "and a softer one for the breakdown?"}) {
    EXPECT_TRUE(refers_back(q)) << q;
  }
  for (const char* q : {"how should I name my stems for the mix engineer", "what even is dither",
                        "why does my drop feel small", "item tempo thesis", "", "   ?"}) {
    EXPECT_FALSE(refers_back(q)) << q;
  }
}

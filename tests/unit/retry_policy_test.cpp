#include <gtest/gtest.h>

#include "llm/retry_policy.hpp"

using namespace chrysopedia::llm;
using std::chrono::milliseconds;

TEST(RetryPolicy, RetriesOverloadAndNothingReceivedOnly) {
  for (int status : {429, 502, 503, 504}) {
    CallOutcome o;
    o.status = status;
    EXPECT_TRUE(is_retryable(o)) << status;
  }
  for (int status : {400, 401, 404, 500, 200}) {
    CallOutcome o;
    o.status = status;
    o.retryable = status != 200;
    EXPECT_EQ(is_retryable(o), status != 200 && o.retryable) << status;
  }
  CallOutcome refused;  // no response at all
  refused.retryable = true;
  EXPECT_TRUE(is_retryable(refused));
  CallOutcome cut;
  cut.status = 200;
  cut.retryable = true;
  EXPECT_FALSE(is_retryable(cut)) << "a 2xx that broke off may have given tokens";
}

TEST(RetryPolicy, BacksOffExponentiallyWithJitterWithinTenSeconds) {
  const milliseconds base(200);
  for (int attempt = 0; attempt < 3; ++attempt) {
    for (int i = 0; i < 50; ++i) {
      const auto d = retry_delay(base, attempt, milliseconds(0));
      EXPECT_GE(d, base * (1 << attempt));
      EXPECT_LE(d, base * (1 << attempt) + base);
    }
  }
  EXPECT_EQ(retry_delay(base, 0, milliseconds(3000)), milliseconds(3000)) << "Retry-After wins";
  EXPECT_EQ(retry_delay(base, 10, milliseconds(0)), milliseconds(10000));
  EXPECT_EQ(retry_delay(base, 0, milliseconds(60000)), milliseconds(10000));
}

TEST(RetryPolicy, ReadsRetryAfterInSecondsOnly) {
  EXPECT_EQ(retry_after_header("Retry-After", "3"), milliseconds(3000));
  EXPECT_EQ(retry_after_header("retry-after", "0"), milliseconds(0));
  EXPECT_FALSE(retry_after_header("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT"));
  EXPECT_FALSE(retry_after_header("Retry-After", "-1"));
  EXPECT_FALSE(retry_after_header("X-Retry-After", "3"));
}

namespace {

LlmError::Kind kind_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const LlmError& err) {
    return err.kind();
  }
}

}  // namespace

TEST(RetryPolicy, AnEndedAttemptIsTheFailureItShows) {
  CallOutcome ok;
  ok.complete = true;
  ok.status = 200;
  EXPECT_FALSE(failure_of({ok, "", "", true, std::nullopt})) << "complete with [DONE]";
  EXPECT_EQ(kind_of(failure_of({ok, "", "", false, std::nullopt})), LlmError::Kind::truncated);
  EXPECT_EQ(kind_of(failure_of({ok, "", "", true, std::string("half a line")})),
            LlmError::Kind::protocol);
  EXPECT_EQ(kind_of(failure_of({ok, "the upstream reported an error: x", "", false, {}})),
            LlmError::Kind::upstream);
  EXPECT_EQ(kind_of(failure_of({ok, "not JSON", "", false, {}})), LlmError::Kind::protocol);

  CallOutcome refused;
  refused.status = 503;
  const auto http = failure_of({refused, "", "busy \xff", false, {}});
  try {
    std::rethrow_exception(http);
  } catch (const LlmError& e) {
    EXPECT_EQ(e.kind(), LlmError::Kind::http_status);
    EXPECT_EQ(e.status(), 503);
    EXPECT_EQ(e.body(), "busy \xEF\xBF\xBD") << "the body, made valid UTF-8";
  }

  CallOutcome dropped;
  dropped.kind = LlmError::Kind::connect;
  dropped.what = "cannot reach the upstream";
  EXPECT_EQ(kind_of(failure_of({dropped, "", "", false, {}})), LlmError::Kind::connect);
}

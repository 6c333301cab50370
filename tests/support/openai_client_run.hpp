#pragma once

// What the streaming client's tests share: a request, options for the fake
// upstream, and a run of one completion to its end on a loop of its own.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "llm/curl_multi.hpp"
#include "llm/openai_stream_client.hpp"

namespace chrysopedia::test {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

inline llm::CompletionRequest request(const std::string& user = "How do I sidechain?") {
  llm::CompletionRequest r;
  r.model = "test-model";
  r.messages = {{"system", "You are Chrysopedia."}, {"user", user}};
  return r;
}

// Every test runs twice: plain http:// on the loop's own sockets (what the
// service uses for it) and through libcurl (what https:// uses).
inline bool g_curl_only = false;

inline llm::OpenAiOptions options_for(const std::string& url) {
  llm::OpenAiOptions o;
  o.curl_only = g_curl_only;
  o.url = url;
  o.api_key = "sk-test-key";
  o.retry_base = std::chrono::milliseconds(10);
  o.connect_timeout = std::chrono::milliseconds(2000);
  return o;
}

struct Run {
  std::vector<std::string> deltas;
  std::vector<Clock::duration> arrivals;  // since start
  std::optional<llm::CompletionResult> result;
  std::optional<llm::LlmError> error;
};

inline Run run(const llm::OpenAiOptions& options, const llm::CompletionRequest& req = request()) {
  net::io_context ctx;
  llm::CurlMulti multi(ctx);
  llm::OpenAiStreamClient client(multi, options);
  Run out;
  const auto start = Clock::now();
  net::co_spawn(
      ctx,
      [&]() -> net::awaitable<void> {
        auto stream = client.start(req);
        try {
          while (auto delta = co_await stream->next()) {
            out.deltas.push_back(*delta);
            out.arrivals.push_back(Clock::now() - start);
          }
          out.result = stream->result();
        } catch (const llm::LlmError& e) {
          out.error = e;
        }
      },
      net::detached);
  ctx.run();
  return out;
}

inline std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x;
  return s;
}

class OpenAiTransportTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { g_curl_only = GetParam(); }
};

/// Every test runs twice: plain http:// on the loop's own sockets and
/// through libcurl.
#define CHRYSOPEDIA_BOTH_TRANSPORTS(Fixture)                                     \
  INSTANTIATE_TEST_SUITE_P(Transports, Fixture, ::testing::Values(false, true),  \
                           [](const ::testing::TestParamInfo<bool>& info) {      \
                             return std::string(info.param ? "curl" : "native"); \
                           })

}  // namespace chrysopedia::test

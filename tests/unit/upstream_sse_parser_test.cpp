#include <gtest/gtest.h>

#include <random>

#include "common/utf8.hpp"
#include "llm/upstream_sse_parser.hpp"

using chrysopedia::common::sanitize_utf8;
using chrysopedia::llm::UpstreamSseParser;

namespace {

struct Recorder : UpstreamSseParser::Handler {
  std::string text;
  std::vector<std::string> deltas;
  std::string finish_reason;
  int prompt = -1, completion = -1;
  int done = 0;
  void on_delta(std::string_view t) override {
    text += t;
    deltas.emplace_back(t);
  }
  void on_finish_reason(std::string_view r) override { finish_reason = r; }
  void on_usage(int p, int c) override {
    prompt = p;
    completion = c;
  }
  void on_done() override { ++done; }
};

struct Outcome {
  Recorder r;
  std::optional<std::string> error;
};

// Feeds `stream` cut into pieces of the given sizes (cycled); 0 = whole.
Outcome parse(const std::string& stream, std::vector<std::size_t> pieces = {0}) {
  Outcome o;
  UpstreamSseParser p;
  std::size_t pos = 0, k = 0;
  while (pos < stream.size() && !o.error) {
    std::size_t n = pieces[k++ % pieces.size()];
    if (n == 0) n = stream.size();
    o.error = p.feed(std::string_view(stream).substr(pos, n), o.r);
    pos += n;
  }
  if (!o.error) o.error = p.finish(o.r);
  return o;
}

// Documented stream formats, one per provider.
const std::string kOpenAi =
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Sidechain the bass"},"logprobs":null,"finish_reason":null}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" to the kick [1].\n\nThen"},"logprobs":null,"finish_reason":null}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" set the release — 80 ms ✓"},"logprobs":null,"finish_reason":null}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":412,"completion_tokens":17,"total_tokens":429}})"
    "\n\n"
    "data: [DONE]\n\n";

const std::string kOllama =
    R"(data: {"id":"chatcmpl-527","object":"chat.completion.chunk","created":1720000000,"model":"llama3.1","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"Sidechain the bass"},"finish_reason":null}]})"
    "\n\n"
    R"(data: {"id":"chatcmpl-527","object":"chat.completion.chunk","created":1720000000,"model":"llama3.1","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":" to the kick [1].\n\nThen set the release — 80 ms ✓"},"finish_reason":null}]})"
    "\n\n"
    R"(data: {"id":"chatcmpl-527","object":"chat.completion.chunk","created":1720000000,"model":"llama3.1","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]})"
    "\n\n"
    R"(data: {"id":"chatcmpl-527","object":"chat.completion.chunk","created":1720000000,"model":"llama3.1","system_fingerprint":"fp_ollama","choices":[],"usage":{"prompt_tokens":412,"completion_tokens":17,"total_tokens":429}})"
    "\n\n"
    "data: [DONE]\n\n";

const std::string kVllm =
    R"(data: {"id":"chat-9","object":"chat.completion.chunk","created":1,"model":"mistral","choices":[{"index":0,"delta":{"role":"assistant"},"logprobs":null,"finish_reason":null}]})"
    "\n\n"
    R"(data: {"id":"chat-9","object":"chat.completion.chunk","created":1,"model":"mistral","choices":[{"index":0,"delta":{"content":"Sidechain the bass to the kick [1].\n\nThen set the release"},"logprobs":null,"finish_reason":null}]})"
    "\n\n"
    R"(data: {"id":"chat-9","object":"chat.completion.chunk","created":1,"model":"mistral","choices":[{"index":0,"delta":{"content":" — 80 ms ✓"},"logprobs":null,"finish_reason":"stop","stop_reason":null}]})"
    "\n\n"
    R"(data: {"id":"chat-9","object":"chat.completion.chunk","created":1,"model":"mistral","choices":[],"usage":{"prompt_tokens":412,"total_tokens":429,"completion_tokens":17}})"
    "\n\n"
    "data: [DONE]\n\n";

const std::string kLlamaCpp =
    R"(data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1,"id":"chatcmpl-x","model":"gguf","system_fingerprint":"b4000","object":"chat.completion.chunk"})"
    "\n\n"
    R"(data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Sidechain the bass to the kick [1].\n\nThen set the release — 80 ms ✓"}}],"created":1,"id":"chatcmpl-x","model":"gguf","system_fingerprint":"b4000","object":"chat.completion.chunk"})"
    "\n\n"
    R"(data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1,"id":"chatcmpl-x","model":"gguf","system_fingerprint":"b4000","object":"chat.completion.chunk","usage":{"completion_tokens":17,"prompt_tokens":412,"total_tokens":429},"timings":{"prompt_n":412,"predicted_n":17}})"
    "\n\n"
    "data: [DONE]\n\n";

const std::string kExpectedText =
    "Sidechain the bass to the kick [1].\n\nThen set the release — 80 ms ✓";

std::string with_line_ends(std::string s, const std::string& eol) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += eol;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string provider_name(std::size_t i) {
  static const char* const names[] = {"OpenAI", "Ollama", "vLLM", "LlamaCpp"};
  return names[i];
}

class ProviderCapture : public ::testing::TestWithParam<std::string> {};

TEST_P(ProviderCapture, ParsesWholeAndInAnyChunking) {
  const std::string& stream = GetParam();
  for (const auto& pieces : std::vector<std::vector<std::size_t>>{
           {0}, {1}, {2}, {3}, {7}, {64}, {1, 5, 2, 13}, {4096}}) {
    for (const std::string eol : {"\n", "\r\n", "\r"}) {
      const auto o = parse(with_line_ends(stream, eol), pieces);
      ASSERT_FALSE(o.error) << *o.error;
      EXPECT_EQ(o.r.text, kExpectedText) << "piece " << pieces[0];
      EXPECT_EQ(o.r.finish_reason, "stop");
      EXPECT_EQ(o.r.prompt, 412);
      EXPECT_EQ(o.r.completion, 17);
      EXPECT_EQ(o.r.done, 1);
      for (const auto& d : o.r.deltas) EXPECT_FALSE(d.empty()) << "empty content is no token";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Providers, ProviderCapture,
                         ::testing::Values(kOpenAi, kOllama, kVllm, kLlamaCpp),
                         [](const auto& info) { return provider_name(info.index); });

TEST(UpstreamSseParser, RandomSplitsNeverChangeTheResult) {
  std::mt19937 rng(99);
  const auto reference = parse(kOpenAi);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::size_t> pieces;
    for (int i = 0; i < 20; ++i) pieces.push_back(1 + rng() % 40);
    const auto o = parse(with_line_ends(kOpenAi, round % 2 ? "\r\n" : "\n"), pieces);
    ASSERT_FALSE(o.error);
    EXPECT_EQ(o.r.deltas, reference.r.deltas);
  }
}

TEST(UpstreamSseParser, CommentsAndOtherFieldsAreIgnored) {
  const auto o = parse(
      ": keep-alive\n\nevent: message\nid: 7\nretry: 100\n"
      R"(data: {"choices":[{"delta":{"content":"x"}}]})"
      "\n\n:ping\n\ndata: [DONE]\n\n");
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.r.text, "x");
  EXPECT_EQ(o.r.done, 1);
}

TEST(UpstreamSseParser, MultiLineDataIsJoined) {
  const auto o = parse("data: {\"choices\":\ndata: [{\"delta\":{\"content\":\"joined\"}}]}\n\n");
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.r.text, "joined");
}

TEST(UpstreamSseParser, RoleOnlyNullAndMissingContentAreNoTokens) {
  const auto o = parse(R"(data: {"choices":[{"delta":{"role":"assistant"}}]})"
                       "\n\n"
                       R"(data: {"choices":[{"delta":{"content":null}}]})"
                       "\n\n"
                       R"(data: {"choices":[{"delta":{"content":""}}]})"
                       "\n\n"
                       R"(data: {"choices":[]})"
                       "\n\n"
                       R"(data: {"choices":[{"delta":{"content":5}}]})"
                       "\n\n");
  EXPECT_FALSE(o.error);
  EXPECT_TRUE(o.r.deltas.empty());
}

TEST(UpstreamSseParser, AnErrorChunkFailsTheStream) {
  const auto o = parse(R"(data: {"choices":[{"delta":{"content":"partial"}}]})"
                       "\n\n"
                       R"(data: {"error":{"message":"model overloaded","type":"server_error"}})"
                       "\n\n");
  ASSERT_TRUE(o.error);
  EXPECT_NE(o.error->find("model overloaded"), std::string::npos);
  EXPECT_EQ(o.r.text, "partial");
}

// Found with fuzz/upstream_sse_parser_fuzzer on a crafted input, beyond the
// mutation runs' length limit: the nlohmann-based parser quoted an error
// value with dump(), which recursed once per level and overflowed the stack
// on 400,000 nested arrays. The chunk scanner that replaced it bounds
// nesting; this keeps it so.
TEST(UpstreamSseParser, ADeeplyNestedErrorFailsTheStreamWithoutOverflowingTheStack) {
  const std::size_t depth = 400'000;  // fits the default 1 MiB line
  const auto o =
      parse("data: {\"error\":" + std::string(depth, '[') + std::string(depth, ']') + "}\n\n");
  ASSERT_TRUE(o.error);
  EXPECT_LT(o.error->size(), 300u);
  const auto shallow = parse(R"(data: {"error":{"code":429,"type":"rate_limit"}})"
                             "\n\n");
  ASSERT_TRUE(shallow.error);
  EXPECT_NE(shallow.error->find(R"({"code":429,"type":"rate_limit"})"), std::string::npos);
}

// Caught by the count property of fuzz/upstream_sse_parser_fuzzer (seed
// usage-edge): the cast to int wrapped counts beyond INT_MAX (2147483648
// became -2147483648) and negatives were passed on.
TEST(UpstreamSseParser, UsageOutsideTheRangeOfACountIsNotReported) {
  for (const char* usage : {R"({"prompt_tokens":2147483648,"completion_tokens":5})",
                            R"({"prompt_tokens":4294967301,"completion_tokens":5})",
                            R"({"prompt_tokens":7,"completion_tokens":-1})",
                            R"({"prompt_tokens":7.5,"completion_tokens":5})"}) {
    const auto o = parse(std::string("data: {\"choices\":[],\"usage\":") + usage + "}\n\n");
    ASSERT_FALSE(o.error) << *o.error;
    EXPECT_EQ(o.r.prompt, -1) << usage;
    EXPECT_EQ(o.r.completion, -1) << usage;
  }
  const auto max =
      parse(R"(data: {"choices":[],"usage":{"prompt_tokens":2147483647,"completion_tokens":0}})"
            "\n\n");
  EXPECT_EQ(max.r.prompt, 2147483647);
  EXPECT_EQ(max.r.completion, 0);
}

TEST(UpstreamSseParser, NotJsonFailsTheStream) {
  const auto o = parse("data: {truncated\n\n");
  ASSERT_TRUE(o.error);
  EXPECT_NE(o.error->find("not JSON"), std::string::npos);
}

TEST(UpstreamSseParser, AnOverlongLineIsAnErrorNotUnboundedMemory) {
  UpstreamSseParser p(1024);
  Recorder r;
  std::optional<std::string> error;
  const std::string kb(512, 'x');
  for (int i = 0; i < 100 && !error; ++i) error = p.feed(kb, r);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("longer than 1024"), std::string::npos);
  EXPECT_TRUE(p.failed());
  EXPECT_TRUE(p.feed("\n\ndata: [DONE]\n\n", r)) << "stays failed";
  EXPECT_EQ(r.done, 0);
}

TEST(UpstreamSseParser, AnEventWithoutItsBlankLineIsDeliveredAtTheEnd) {
  const auto o =
      parse(R"(data: {"choices":[{"delta":{"content":"last"},"finish_reason":"length"}]})");
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.r.text, "last");
  EXPECT_EQ(o.r.finish_reason, "length");
}

TEST(UpstreamSseParser, InvalidUtf8IsReplacedNotFatal) {
  const auto o = parse("data: {\"choices\":[{\"delta\":{\"content\":\"ok \xff\xfe end\"}}]}\n\n");
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.r.text, "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST(SanitizeUtf8, KeepsValidTextAndReplacesBadBytes) {
  EXPECT_EQ(sanitize_utf8("plain ✓ 🎛️ ねじ"), "plain ✓ 🎛️ ねじ");
  EXPECT_EQ(sanitize_utf8("\xC3"), "\xEF\xBF\xBD") << "truncated sequence";
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "overlong";
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "surrogate";
}

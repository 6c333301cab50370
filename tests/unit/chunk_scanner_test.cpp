// The chunk scanner against nlohmann::json as the oracle: what the relay
// did before the scanner replaced a full parse per token. Hand-picked
// chunks from real providers and edge cases, then thousands of mutations
// of them (bytes flipped, inserted, deleted, cut short), must give the same
// verdict and the same fields.
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/utf8.hpp"
#include "llm/chunk_scanner.hpp"
#include "llm/upstream_sse_parser.hpp"
#include "support/json_surrogates.hpp"

namespace chrysopedia::llm {
using common::sanitize_utf8;

namespace {

struct Oracle {
  ChunkScan scan = ChunkScan::ok;
  ChunkFields f;
};

Oracle oracle(std::string_view data) {
  Oracle o;
  nlohmann::json chunk;
  try {
    chunk = nlohmann::json::parse(test::lone_surrogates_replaced(sanitize_utf8(data)));
  } catch (const nlohmann::json::exception&) {
    o.scan = ChunkScan::not_json;
    return o;
  }
  if (!chunk.is_object()) {
    o.scan = ChunkScan::not_object;
    return o;
  }
  if (const auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
    o.f.has_error = true;
    if (err->is_object() && err->contains("message") && (*err)["message"].is_string()) {
      o.f.error_message = (*err)["message"].get<std::string>();
    } else if (err->is_string()) {
      o.f.error_message = err->get<std::string>();
    } else {
      o.f.error_message = "(raw)";
    }
  }
  if (const auto choices = chunk.find("choices");
      choices != chunk.end() && choices->is_array() && !choices->empty()) {
    const auto& choice = (*choices)[0];
    if (choice.is_object()) {
      if (const auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
        if (const auto content = delta->find("content");
            content != delta->end() && content->is_string()) {
          o.f.has_content = true;
          o.f.content = content->get<std::string>();
        }
      }
      if (const auto reason = choice.find("finish_reason");
          reason != choice.end() && reason->is_string()) {
        o.f.has_finish_reason = true;
        o.f.finish_reason = reason->get<std::string>();
      }
    }
  }
  if (const auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
    const auto p = usage->find("prompt_tokens");
    const auto c = usage->find("completion_tokens");
    auto small_int = [](const nlohmann::json& v) {
      return v.is_number_integer() && v.get<long long>() > -100000000000000000LL &&
             v.get<long long>() < 100000000000000000LL;
    };
    if (p != usage->end() && c != usage->end() && small_int(*p) && small_int(*c)) {
      o.f.has_usage = true;
      o.f.prompt_tokens = p->get<long long>();
      o.f.completion_tokens = c->get<long long>();
    }
  }
  return o;
}

void expect_same(std::string_view data) {
  const Oracle want = oracle(data);
  ChunkFields got;
  const ChunkScan scan = scan_chunk(data, got);
  ASSERT_EQ(static_cast<int>(scan), static_cast<int>(want.scan)) << "input: " << data;
  if (scan != ChunkScan::ok) return;
  EXPECT_EQ(got.has_error, want.f.has_error) << data;
  if (want.f.has_error && want.f.error_message != "(raw)") {
    EXPECT_EQ(got.error_message, want.f.error_message) << data;
  }
  EXPECT_EQ(got.has_content, want.f.has_content) << data;
  EXPECT_EQ(got.content, want.f.content) << data;
  EXPECT_EQ(got.has_finish_reason, want.f.has_finish_reason) << data;
  EXPECT_EQ(got.finish_reason, want.f.finish_reason) << data;
  EXPECT_EQ(got.has_usage, want.f.has_usage) << data;
  if (want.f.has_usage) {
    EXPECT_EQ(got.prompt_tokens, want.f.prompt_tokens) << data;
    EXPECT_EQ(got.completion_tokens, want.f.completion_tokens) << data;
  }
}

const std::vector<std::string> kSeeds = {
    // OpenAI
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" the kick [1]\n\nthen"},"finish_reason":null}]})",
    R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})",
    R"({"id":"c","choices":[],"usage":{"prompt_tokens":812,"completion_tokens":64,"total_tokens":876}})",
    // Ollama, vLLM, llama.cpp
    R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"llama3","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"Sidechain"},"finish_reason":null}]})",
    R"({"id":"cmpl-x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"caf\u00e9 \ud83c\udfb9 \"q\" \\ \/ \b\f\r\t"},"logprobs":null,"finish_reason":null}]})",
    R"({"choices":[{"finish_reason":"length","index":0,"delta":{}}],"created":1,"id":"x","model":"m","object":"chat.completion.chunk","usage":{"completion_tokens":3,"prompt_tokens":4,"total_tokens":7},"timings":{"predicted_ms":1.5e2,"n":-0}})",
    // Errors
    R"({"error":{"message":"model overloaded","type":"server_error","code":null}})",
    R"({"error":"rate limited"})",
    R"({"error":{"code":500}})",
    R"({"error":null,"choices":[{"delta":{"content":"ok"}}]})",
    R"({"error":[1,2,{"a":true}]})",
    // Odd but valid
    R"(  {"choices":[{"delta":{"content":"a","content":"b"}}, {"delta":{"content":"second"}}]}  )",
    R"({"choices":[5,{"delta":{"content":"x"}}]})",
    R"({"choices":[{"delta":{"content":null},"finish_reason":7}]})",
    R"({"choices":{"delta":{"content":"not an array"}}})",
    R"({"usage":{"prompt_tokens":1.5,"completion_tokens":2}})",
    R"({"usage":{"prompt_tokens":-3,"completion_tokens":0}})",
    // Counts of another type: valid JSON, no usage (the fuzzer's find).
    R"({"choices":[],"usage":{"prompt_tokens":"choices","completion_tokens":-1}})",
    R"({"usage":{"prompt_tokens":null,"completion_tokens":[1],"total_tokens":{"a":true}}})",
    "{\"choices\":[{\"delta\":{\"content\":\"bad \xC3\x28 utf8 \xFF\"}}]}",
    R"([1,2,3])",
    R"("just a string")",
    R"(42)",
    R"({})",
    // Broken
    R"({"choices":[{"delta":{"content":"unterminated}}]})",
    R"({"choices":[{"delta":{"content":"\ud800 lone"}}]})",
    R"({"choices":[{"delta":{"content":"\udc00 lone low"}}]})",
    R"({"choices":[{"delta":{"content":"bad escape \x"}}]})",
    R"({"a":1,})",
    R"({"a":01})",
    R"({"a":1.})",
    R"({"a":tru})",
    "{\"a\":\"raw\ncontrol\"}",
    R"({"a":1} trailing)",
    R"()",
};

TEST(ChunkScanner, AgreesWithAFullJsonParserOnProviderChunksAndEdgeCases) {
  for (const auto& seed : kSeeds) expect_same(seed);
}

TEST(ChunkScanner, AgreesWithAFullJsonParserOnMutatedChunks) {
  std::mt19937 rng(20261124);
  const std::string alphabet = "{}[]\":,\\u0123456789abcdefnrtl.eE-+ \n\xC3\xA9\xFF";
  for (int round = 0; round < 30000; ++round) {
    std::string s = kSeeds[rng() % kSeeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          s.erase(at, 1);
          break;
        default:
          s.resize(at);
      }
    }
    expect_same(s);
    if (testing::Test::HasFailure()) return;
  }
}

TEST(ChunkScanner, ALoneSurrogateEscapeIsOneReplacementCharacterNotAFailure) {
  // A proxy that splits an emoji's escaped pair between chunks, or a model
  // that emits half of one: the answer goes on with U+FFFD in its place.
  const std::string fffd = "\xEF\xBF\xBD";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"choices":[{"delta":{"content":"a\ud83c"}}]})", "a" + fffd},
      {R"({"choices":[{"delta":{"content":"\udf89b"}}]})", fffd + "b"},
      {R"({"choices":[{"delta":{"content":"\ud83c\u0041"}}]})", fffd + "A"},
      {R"({"choices":[{"delta":{"content":"\ud83c\ud83c\udf89"}}]})", fffd + "\xF0\x9F\x8E\x89"},
      {R"({"choices":[{"delta":{"content":"\ud83c\udf89"}}]})", "\xF0\x9F\x8E\x89"},
  };
  for (const auto& [chunk, content] : cases) {
    ChunkFields f;
    ASSERT_EQ(scan_chunk(chunk, f), ChunkScan::ok) << chunk;
    EXPECT_EQ(f.content, content) << chunk;
  }
  ChunkFields f;  // a broken escape after the high half is still not JSON
  EXPECT_EQ(scan_chunk(R"({"choices":[{"delta":{"content":"\ud83c\u00zz"}}]})", f),
            ChunkScan::not_json);
}

TEST(ChunkScanner, RejectsNestingDeeperThanItsLimitInsteadOfOverflowingTheStack) {
  ChunkFields f;
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(scan_chunk(deep, f), ChunkScan::not_json);
  const std::string fine = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(scan_chunk(fine, f), ChunkScan::ok);
}

TEST(ChunkScanner, ReusesItsStringsFromChunkToChunk) {
  ChunkFields f;
  ASSERT_EQ(scan_chunk(R"({"choices":[{"delta":{"content":"a longer first token text"}}]})", f),
            ChunkScan::ok);
  const auto* buffer = f.content.data();
  ASSERT_EQ(scan_chunk(R"({"choices":[{"delta":{"content":"short, then long again"}}]})", f),
            ChunkScan::ok);
  EXPECT_EQ(f.content, "short, then long again");
  EXPECT_EQ(f.content.data(), buffer) << "no allocation for a token that fits";
}

}  // namespace
}  // namespace chrysopedia::llm

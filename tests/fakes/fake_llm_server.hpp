#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chrysopedia::test {

using namespace std::chrono_literals;

/// What the fake upstream answers to one request.
struct FakeReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
  struct Chunk {
    std::chrono::milliseconds delay{0};  ///< before these bytes
    std::string bytes;
  };
  std::vector<Chunk> chunks;  ///< the body, written as it is scripted
  enum class End {
    finish,  ///< end the body properly; the connection stays open for reuse
    drop,    ///< reset the connection mid-body
    hang,    ///< never end (until the client goes away)
    close,   ///< close mid-body, the end in the same segment as the last bytes
  } end = End::finish;
};

/// An OpenAI-style stream of the given deltas, `gap` apart.
/// " w0", " w1", ... " w{n-1}": an answer of n tokens each told apart.
inline std::vector<std::string> numbered_deltas(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(" w" + std::to_string(i));
  return out;
}

FakeReply openai_stream(const std::vector<std::string>& deltas, std::chrono::milliseconds gap = 0ms,
                        bool done = true, const std::string& finish_reason = "stop",
                        bool usage = true);

/// A non-2xx answer with a JSON error body.
FakeReply error_reply(int status, const std::string& message,
                      std::vector<std::pair<std::string, std::string>> headers = {});

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  ///< lower-cased names
  std::string body;
};

/// A stand-in for an embedding model, deterministic: each word (lower-cased,
/// a plural's "s" dropped, common words skipped) adds a direction of its
/// own, so texts sharing words are near and texts sharing none are not.
std::vector<float> fake_embedding(std::string_view text, int dimension);

/// The /v1/embeddings answer to `request`: fake_embedding of each input,
/// after `rewrite` (a test's idea of what a text means) when given.
FakeReply embeddings_reply(const RecordedRequest& request, int dimension,
                           const std::function<std::string(const std::string&)>& rewrite = {});

/// A scriptable OpenAI-compatible server on 127.0.0.1, for tests, benchmarks
/// and trying the service by hand: streams given deltas with given delays,
/// returns given statuses, drops connections, sends error chunks, and
/// records every request. Runs on its own thread.
class FakeLlmServer {
 public:
  explicit FakeLlmServer(std::uint16_t port = 0);
  ~FakeLlmServer();
  FakeLlmServer(const FakeLlmServer&) = delete;
  FakeLlmServer& operator=(const FakeLlmServer&) = delete;

  std::uint16_t port() const;
  /// The base URL to configure as LLM_API_URL: http://127.0.0.1:PORT/v1
  std::string url() const;

  /// Replies for the next requests, in order; after them, the default.
  void push(FakeReply reply);
  void set_default(FakeReply reply);
  /// Computes each reply from its request (when no pushed reply is waiting).
  void set_handler(std::function<FakeReply(const RecordedRequest&)> handler);

  /// Answers the requests to .../embeddings (by default embeddings_reply
  /// at 64 dimensions); they are kept apart from the chat requests.
  void set_embeddings_handler(std::function<FakeReply(const RecordedRequest&)> handler);
  std::vector<RecordedRequest> embedding_requests() const;

  std::vector<RecordedRequest> requests() const;
  /// Keeps about the last `n` requests only (a benchmark's fake serves
  /// hundreds of thousands, kilobytes of prompt each).
  void keep_last_requests(std::size_t n);
  /// Connections accepted so far, and how many of them the client closed.
  int connections_accepted() const;
  int connections_closed_by_client() const;
  /// Responses written to their end, and responses begun.
  int responses_finished() const;
  int responses_started() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chrysopedia::test

#include "chat/followup_rewriter.hpp"

#include <variant>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chrysopedia::chat {

namespace net = boost::asio;
using namespace net::experimental::awaitable_operators;

namespace {

constexpr const char* kInstruction =
    "You rewrite the last question of a conversation about music production into a "
    "standalone search query for a library of technique pages. Resolve what words like "
    "'it', 'that' and 'one' refer to from the earlier questions; keep the user's own terms; "
    "if the last question is about a new subject, keep only that subject. Reply with the "
    "query alone, on one line, without quotes or explanation.";

// Longest answer taken as a query: a model that explains instead of
// rewriting is not searched with.
constexpr std::size_t kMaxQuery = 300;

// The whole answer, or what went wrong, as a value: awaited with `||`, a
// failing operation would not end the race with the timer.
struct Collected {
  std::string text;
  bool failed = false;
};

net::awaitable<Collected> collect(llm::LlmClient& llm, llm::CompletionRequest request) {
  Collected out;
  try {
    auto stream = llm.start(request);
    while (auto delta = co_await stream->next()) {
      out.text += *delta;
      if (out.text.size() > 4 * kMaxQuery) break;
    }
  } catch (const llm::LlmError&) {
    out.failed = true;
  }
  co_return out;
}

}  // namespace

std::vector<llm::ChatMessage> rewrite_messages(const std::vector<std::string>& earlier,
                                               const std::string& followup) {
  std::string conversation = "Earlier questions:\n";
  for (const auto& q : earlier) conversation += "- " + q + "\n";
  conversation += "Last question: " + followup;
  return {{"system", kInstruction}, {"user", conversation}};
}

net::awaitable<Rewrite> rewrite_followup(llm::LlmClient& llm, const std::string& model,
                                         const std::vector<std::string>& earlier,
                                         const std::string& followup,
                                         std::chrono::milliseconds budget) {
  llm::CompletionRequest request;
  request.messages = rewrite_messages(earlier, followup);
  request.model = model;
  request.temperature = 0;
  request.max_tokens = 64;
  request.stream_usage = false;
  net::steady_timer timer(co_await net::this_coro::executor, budget);
  const auto got =
      co_await (collect(llm, std::move(request)) || timer.async_wait(net::use_awaitable));
  if (got.index() == 1) co_return Rewrite{std::nullopt, "timeout"};
  const auto& collected = std::get<0>(got);
  if (collected.failed) co_return Rewrite{std::nullopt, "failed"};
  std::string query = collected.text;
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!query.empty() && space(query.back())) query.pop_back();
  while (!query.empty() && space(query.front())) query.erase(0, 1);
  if (query.size() >= 2 && query.front() == '"' && query.back() == '"') {
    query = query.substr(1, query.size() - 2);
  }
  if (query.empty() || query.size() > kMaxQuery || query.find('\n') != std::string::npos) {
    co_return Rewrite{std::nullopt, "unusable"};
  }
  co_return Rewrite{query, "model"};
}

}  // namespace chrysopedia::chat

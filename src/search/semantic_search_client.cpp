#include "search/semantic_search_client.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chrysopedia/observability/metrics.hpp"
#include "common/log_text.hpp"
#include "search/followup.hpp"
#include "search/pg_search_client.hpp"
#include "search/semantic_index.hpp"

namespace chrysopedia::search {

namespace net = boost::asio;
using namespace net::experimental::awaitable_operators;

namespace {

observability::Counter& outcome_counter(const std::string& outcome) {
  return observability::default_registry().counter(
      "chrysopedia_semantic_searches_total",
      "Searches by what the semantic part did: fused, or why it was left out.",
      {{"outcome", outcome}});
}

// An endpoint's failure as a value: awaited with `||`, a failing operation
// would not end the race (it waits for the first success: the timer).
struct Embedded {
  std::vector<std::vector<float>> vectors;
  std::string error;
};

net::awaitable<Embedded> embed_or_error(Embedder& embedder, std::vector<std::string> texts) {
  Embedded out;
  try {
    out.vectors = co_await embedder.embed(std::move(texts));
  } catch (const EmbeddingError& e) {
    out.error = e.what();
  }
  co_return out;
}

}  // namespace

SemanticSearchClient::SemanticSearchClient(PgSearchClient& text, Embedder& embedder,
                                           SemanticIndex& index, Options options)
    : text_(text), embedder_(embedder), index_(index), options_(options) {
  // Every outcome's series exists before the first search.
  for (const char* o : {"fused", "failed", "timeout", "loading", "empty", "mismatch"}) {
    outcome_counter(o);
  }
}

net::awaitable<std::function<std::vector<long long>()>> SemanticSearchClient::neighbours(
    const SearchRequest& request, std::string& outcome) {
  std::function<std::vector<long long>()> ids;
  auto index = index_.current();
  if (!index) {
    outcome = SemanticIndex::name(index_.state());
    co_return ids;
  }
  std::vector<std::string> texts{contextual_query(request.query, request.context)};
  net::steady_timer timer(co_await net::this_coro::executor, options_.timeout);
  auto got = co_await (embed_or_error(embedder_, std::move(texts)) ||
                       timer.async_wait(net::use_awaitable));
  index_.note_endpoint(got.index() == 0 && std::get<0>(got).error.empty());
  if (got.index() == 1) {
    outcome = "timeout";
    spdlog::warn("semantic_search_failed error=\"no embedding within {} ms\"",
                 options_.timeout.count());
    co_return ids;
  }
  const auto& [vectors, error] = std::get<0>(got);
  if (!error.empty()) {
    outcome = "failed";
    spdlog::warn("semantic_search_failed error={}", common::log_quote(error, 300));
    co_return ids;
  }
  if (vectors.size() != 1 || static_cast<int>(vectors[0].size()) != index->dimension()) {
    index_.note_endpoint(false);
    outcome = "failed";
    spdlog::warn(
        "semantic_search_failed error=\"the question's vector has dimension {}, the "
        "index {}: has the endpoint's model changed?\"",
        vectors.empty() ? 0 : vectors[0].size(), index->dimension());
    co_return ids;
  }
  ids = [index = std::move(index), vector = std::move(std::get<0>(got).vectors[0]),
         k = options_.neighbours, min_similarity = options_.min_similarity] {
    std::vector<long long> found;
    for (const auto& hit : index->nearest(vector.data(), k)) {
      if (hit.similarity >= min_similarity) found.push_back(hit.doc_id);
    }
    return found;
  };
  outcome = "fused";
  co_return ids;
}

net::awaitable<std::string> SemanticSearchClient::readiness(std::chrono::milliseconds timeout) {
  co_return co_await text_.readiness(timeout);
}

net::awaitable<SearchResult> SemanticSearchClient::search(const SearchRequest& request) {
  std::string outcome;
  auto find = co_await neighbours(request, outcome);
  PgSearchClient::Neighbours found{std::move(find), options_.weight};
  outcome_counter(outcome).inc();
  auto result = co_await text_.search_with(request, std::move(found));
  result.semantic = outcome;
  co_return result;
}

}  // namespace chrysopedia::search

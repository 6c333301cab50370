#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "chrysopedia/search/embedder.hpp"
#include "chrysopedia/search/search_client.hpp"
#include "search/fusion.hpp"

namespace chrysopedia::search {

class PgSearchClient;
class SemanticIndex;

/// Full-text search fused with semantic search (SPEC §2, issue 16): the
/// question (in its conversation's context) is embedded under a time
/// budget, its nearest documents found in the replica's SemanticIndex, and
/// the two rankings fused in the same database round trip as the cascade.
/// When the index is not there, or the embeddings endpoint fails or is
/// slow, the search is the cascade alone and says why in
/// SearchResult::semantic: the chat never fails for it. One per event loop
/// (the embedder is the loop's).
class SemanticSearchClient final : public SearchClient {
 public:
  struct Options {
    std::size_t neighbours = 10;              ///< nearest documents fused in
    std::chrono::milliseconds timeout{1000};  ///< for the question's embedding
    float min_similarity = 0;                 ///< nearer than this, or not fused
    double weight = kDefaultSemanticWeight;   ///< of a semantic rank (fuse_rankings)
  };
  SemanticSearchClient(PgSearchClient& text, Embedder& embedder, SemanticIndex& index,
                       Options options);
  boost::asio::awaitable<SearchResult> search(const SearchRequest& request) override;
  /// The database's: a failing embeddings endpoint leaves full-text search.
  boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds timeout) override;

 private:
  /// Embeds the question; yields the lookup of its neighbours that the
  /// search's pool thread runs (empty when there is none, `outcome` says why).
  boost::asio::awaitable<std::function<std::vector<long long>()>> neighbours(
      const SearchRequest& request, std::string& outcome);
  PgSearchClient& text_;
  Embedder& embedder_;
  SemanticIndex& index_;
  Options options_;
};

}  // namespace chrysopedia::search

#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "chrysopedia/search/search_client.hpp"
#include "search/fusion.hpp"
#include "search/list_cache.hpp"
#include "search/pg_pool.hpp"
#include "search/replica_set.hpp"

namespace chrysopedia::search {

/// SearchClient over Postgres: each search runs the cascade on a pool
/// thread and resumes the caller on its own executor. A broken connection
/// (Postgres restarted) is retried once on a fresh one.
///
/// With hot standbys (DATABASE_REPLICA_URLS), searches go to them in turn
/// while they answer and keep within `max_lag`, and to the primary's pool
/// when none does; a search that fails on a standby is run again on the
/// primary, and the standby is skipped until a check finds it well.
class PgSearchClient final : public SearchClient {
 public:
  PgSearchClient(std::shared_ptr<PgPool> pool, std::chrono::milliseconds timeout,
                 std::vector<std::shared_ptr<PgPool>> standbys = {},
                 std::chrono::milliseconds max_lag = std::chrono::seconds(5),
                 std::size_t list_cache_bytes = kListCacheBytes);
  /// Champion lists kept in memory: ~1.3 KB a word of the corpus (a
  /// hundred documents each), so some 12,000 words, more than questions use
  /// on any corpus tried. 0: none kept (every search reads them). Beside
  /// them, the whole lexicon is read into memory when it takes no more
  /// than twice this (kLexiconFactor): at start and after each import.
  static constexpr std::size_t kListCacheBytes = 16 << 20;
  static constexpr std::size_t kLexiconFactor = 2;
  /// With the lexicon, every search document is read into memory when it
  /// takes no more than this times the lists' bytes there (128 MiB by
  /// default: the flat corpus's 1,000 pages take 37 MB, so some 3,000 pages
  /// of either shape), and questions of plain words are ranked in the
  /// process (memory_ranking.hpp).
  static constexpr std::size_t kDocumentsFactor = 8;
  boost::asio::awaitable<SearchResult> search(const SearchRequest& request) override;
  /// Empty when a search can be served: the primary answers, or else a
  /// standby does.
  boost::asio::awaitable<std::string> readiness(std::chrono::milliseconds timeout) override;
  /// The question's nearest documents by meaning: `find` yields their ids,
  /// best first, on the pool thread (an index lookup is CPU work an I/O
  /// loop should not wait on); `weight` is how much their ranks count
  /// (fuse_rankings).
  struct Neighbours {
    std::function<std::vector<long long>()> find;
    double weight = kDefaultSemanticWeight;
  };
  /// The cascade fused with the documents `neighbours` finds (none when
  /// it has no `find`).
  boost::asio::awaitable<SearchResult> search_with(const SearchRequest& request,
                                                   Neighbours neighbours);
  /// The champion lists kept between searches (hits, misses, size).
  ListCache::Stats list_cache_stats() const { return lists_->stats(); }

 private:
  boost::asio::awaitable<SearchResult> search_on(PgPool& pool, const SearchRequest& request,
                                                 const Neighbours& neighbours,
                                                 std::chrono::steady_clock::time_point deadline);
  /// Starts the standbys' checks that are due (on their pools' threads);
  /// never waits for them.
  void check_standbys();
  /// Starts reading the lexicon on a pool thread when none of the lists'
  /// current generation is held and one may be; never waits for it.
  void read_lexicon_if_due();

  struct LexiconReading {
    std::mutex mutex;
    bool under_way = false;
    std::chrono::steady_clock::time_point next_try{};
    long long not_kept_at = -2;  // generation found too big (or stemmed otherwise)
  };

  std::shared_ptr<PgPool> pool_;
  std::chrono::milliseconds timeout_;
  // Shared by the pool's threads; a search holds it through its job.
  std::shared_ptr<ListCache> lists_;
  std::size_t lexicon_bytes_;
  std::size_t documents_bytes_;
  std::shared_ptr<LexiconReading> lexicon_reading_ = std::make_shared<LexiconReading>();
  std::vector<std::shared_ptr<PgPool>> standbys_;
  // Held by the checks under way too, which may end after this client.
  std::shared_ptr<ReplicaSet> replicas_;
};

}  // namespace chrysopedia::search

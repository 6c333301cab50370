#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "search/vector_index.hpp"

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

struct EmbeddingModel;

/// The index's options for the database's documents: 8 bits when the
/// estimate fits `max_bytes`, else 4; the capacity is the document count.
VectorIndex::Options options_for(pqxx::connection_base& conn, const EmbeddingModel& model,
                                 VectorIndex::Options options, std::size_t max_bytes);

/// Builds the index from the stored vectors on `threads` threads (null
/// when `stop` turned true).
std::unique_ptr<VectorIndex> build_vector_index(pqxx::connection_base& conn,
                                                const EmbeddingModel& model,
                                                const VectorIndex::Options& options,
                                                const std::atomic<bool>* stop,
                                                unsigned threads = 1);

/// The index stored by build_and_store_index, or null when there is none.
std::unique_ptr<VectorIndex> load_stored_index(pqxx::connection_base& conn, int dimension,
                                               const VectorIndex::Options& options);

/// Builds the index from the stored vectors, on every core, and stores it
/// for the replicas (the end of an embedding pass).
void build_and_store_index(pqxx::connection_base& conn, const EmbeddingModel& model,
                           std::size_t max_bytes);

/// The semantic index a replica serves from, on a thread of its own, so the
/// service is ready (and searches by full text) while it loads: the index
/// the embedding pass stored in Postgres when it was built from the current
/// vectors (seconds), else built here from the vectors (minutes at 100,000
/// pages); published whole, and loaded again when the stored vectors change
/// (checked every `recheck`).
class SemanticIndex {
 public:
  enum class State {
    loading,   ///< not built yet (or the database is unreachable)
    empty,     ///< nothing embedded yet: `chrysopedia-chat embed`
    ready,     ///< serving
    mismatch,  ///< the stored vectors are of another model: never served
  };
  struct Options {
    std::string database_url;
    std::string model;  ///< EMBEDDINGS_MODEL
    std::chrono::milliseconds recheck{60'000};
    std::chrono::milliseconds retry{2'000};
    VectorIndex::Options index;
    /// The index's memory budget: 8 bits a dimension when they fit in it,
    /// else 4 (EMBEDDINGS_INDEX_MAX_MIB).
    std::size_t max_bytes = std::size_t{512} << 20;
  };

  explicit SemanticIndex(Options options);
  ~SemanticIndex();
  SemanticIndex(const SemanticIndex&) = delete;
  SemanticIndex& operator=(const SemanticIndex&) = delete;

  /// The index to search, or null while there is none to serve.
  std::shared_ptr<const VectorIndex> current() const;
  State state() const { return state_.load(); }
  static const char* name(State s);
  /// What the last question's embedding did (the searches report it), so
  /// that /readyz and /metrics can say the endpoint is failing.
  void note_endpoint(bool answered);
  bool endpoint_failing() const { return endpoint_failing_.load(); }

  /// Blocks until the first load ends one way or another (tests, benches).
  bool wait_loaded(std::chrono::milliseconds timeout) const;

 private:
  void run();
  bool load_once();  // true when it reached a state (not retrying)
  void publish_metrics(std::size_t documents);

  Options options_;
  std::atomic<State> state_{State::loading};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::shared_ptr<const VectorIndex> index_;
  std::string signature_;  // of the stored vectors last built from
  std::atomic<bool> stopping_{false};
  std::atomic<bool> endpoint_failing_{false};
  bool settled_ = false;
  std::thread thread_;
};

}  // namespace chrysopedia::search

#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "search/vector_index.hpp"

namespace chrysopedia::search {

/// The semantic index a replica serves from: built from the vectors in
/// Postgres on a thread of its own, so the service is ready (and searches
/// by full text) while it loads; published whole when built, and built
/// again when the stored vectors change (checked every `recheck`).
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
  bool settled_ = false;
  std::thread thread_;
};

}  // namespace chrysopedia::search

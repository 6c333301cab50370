#pragma once

#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "search/candidates.hpp"
#include "search/document_store.hpp"
#include "search/lexicon.hpp"

namespace chrysopedia::search {

/// The champion lists of a word of a question: one per lexeme the word
/// stems to that the corpus holds (none for a word the corpus lacks).
using WordLists = std::vector<std::shared_ptr<const ChampionList>>;

/// Champion lists of the words questions use, kept in the process so that
/// most searches skip the statement that reads them (a third of a search's
/// time at one user). Every change to lexeme_lists bumps a generation (a
/// trigger); the cache holds one generation at a time, and a search checks
/// in the statement that uses the lists that the database is still at it.
/// Bounded in bytes, least recently used out first. Thread-safe: the search
/// pool's threads share one.
///
/// Beside the words met, it may hold the whole lexicon (every lexeme's
/// list, when the corpus's fit): then a word the process can stem itself
/// is found there the first time it is asked, and only words it cannot
/// (digits, hyphens, accents) are read with a statement.
class ListCache {
 public:
  explicit ListCache(std::size_t max_bytes);

  struct Lookup {
    long long generation = -1;  // of the hits; -1 when the cache is empty
    std::unordered_map<std::string, WordLists> hits;
    std::vector<std::string> missing;
  };
  Lookup lookup(const std::vector<std::string>& words);

  /// Keeps words' lists read at `generation`: a newer generation than the
  /// cache's empties it first, an older one is not kept.
  void store(long long generation, const std::unordered_map<std::string, WordLists>& words);

  /// Keeps every lexeme's lists (read_lexicon): not if older than the
  /// words' generation; a newer one empties the words kept first.
  void set_lexicon(std::shared_ptr<const Lexicon> lexicon);
  /// No lexicon of the current generation is held (none read yet, or
  /// lists read since are of a newer generation).
  bool lexicon_missing() const;
  /// The lexicon held (null when none is): every word the corpus holds.
  std::shared_ptr<const Lexicon> lexicon() const;

  /// Keeps every search document (read_document_store), for ranking in
  /// the process (memory_ranking.hpp): not if older than the lists'
  /// generation; lists of a newer generation drop it.
  void set_documents(std::shared_ptr<const DocumentStore> documents);
  /// The documents held (null when none are), of the lists' generation.
  std::shared_ptr<const DocumentStore> documents() const;
  /// A full-text ranking was made in the process.
  void count_memory_ranking() { ++memory_rankings_; }

  struct Stats {
    std::size_t hits = 0;
    std::size_t misses = 0;
    std::size_t words = 0;
    std::size_t bytes = 0;
    long long generation = -1;
    std::size_t lexicon_hits = 0;   // words found through the lexicon
    std::size_t lexicon_lists = 0;  // lexemes it holds (0: none held)
    std::size_t lexicon_bytes = 0;
    std::size_t documents = 0;  // search documents held (0: none)
    std::size_t documents_bytes = 0;
    std::size_t memory_rankings = 0;  // full-text rankings made in the process
  };
  Stats stats() const;

 private:
  struct Entry {
    WordLists lists;
    std::size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  void evict_to(std::size_t max_bytes);
  /// Drops what is held for `generation` (newer than the one held);
  /// called with the mutex held.
  void advance_to(long long generation);

  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  long long generation_ = -1;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
  std::size_t bytes_ = 0;
  std::shared_ptr<const Lexicon> lexicon_;          // of generation_, or null
  std::shared_ptr<const DocumentStore> documents_;  // of generation_, or null
  std::atomic<std::size_t> memory_rankings_ = 0;
  std::atomic<std::size_t> hits_ = 0;
  std::atomic<std::size_t> misses_ = 0;
  std::atomic<std::size_t> lexicon_hits_ = 0;
};

}  // namespace chrysopedia::search

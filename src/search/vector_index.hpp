#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace chrysopedia::search {

/// An approximate nearest-neighbour index (HNSW, hnswlib) over the search
/// documents' embeddings, by cosine similarity. Vectors are held as 8-bit
/// integers with a scale each (a quarter of float's memory), or 4-bit (an
/// eighth) where 8 would not fit the memory budget: 100,000 pages
/// (~580,000 documents) of a 768-dimension model take ~560 MiB at 8 bits,
/// ~350 at 4 (SemanticIndex picks).
///
/// add() is for one thread while nobody searches; once built, nearest() may
/// be called from any number of threads.
class VectorIndex {
 public:
  struct Options {
    std::size_t m = 16;  ///< links per node
    std::size_t ef_construction = 100;
    std::size_t ef_search = 64;  ///< candidates a search keeps (>= k)
    int bits = 8;                ///< 8 or 4 per dimension
    std::size_t capacity = 0;    ///< documents expected (options_for; grows as needed)
  };
  struct Hit {
    long long doc_id = 0;
    float similarity = 0;  ///< cosine, -1..1
  };

  VectorIndex(int dimension, std::size_t capacity, Options options);
  VectorIndex(int dimension, std::size_t capacity);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  /// Writes the index (graph and vectors) to a file, and reads one back:
  /// an index built once is loaded by every replica in seconds. Throws
  /// std::runtime_error on a file that cannot be read as one.
  void save(const std::string& path) const;
  static std::unique_ptr<VectorIndex> load(const std::string& path, int dimension, Options options);

  /// A zero vector is skipped (it has no direction).
  void add(long long doc_id, const float* vector);

  /// Adds documents on `threads` threads at once (an index built with
  /// more than one is not the same graph twice over: built once and stored,
  /// every replica loads the same one). `vectors` holds them end to end.
  void add_batch(const std::vector<long long>& doc_ids, const std::vector<float>& vectors,
                 unsigned threads);

  /// The `k` most similar documents, most similar first (ties by id).
  std::vector<Hit> nearest(const float* query, std::size_t k) const;

  int dimension() const { return dimension_; }
  int bits() const;
  /// What an index of `documents` would take, in bytes, before building it.
  static std::size_t estimate_bytes(int dimension, std::size_t documents, const Options& options);
  std::size_t size() const;
  /// The index's own allocations (vectors, links), in bytes.
  std::size_t memory_bytes() const;

 private:
  struct Impl;
  VectorIndex(int dimension, std::unique_ptr<Impl> impl);
  int dimension_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chrysopedia::search

#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

/// The model the stored vectors come from (one per database).
struct EmbeddingModel {
  std::string model;
  int dimension = 0;
};

/// A search document's text that has no vector yet, under its hash.
struct PendingText {
  long long doc_id = 0;
  std::string hash;  ///< sha256 of the text, raw bytes
  std::string text;
};

/// The recorded model, or nullopt before anything was embedded.
std::optional<EmbeddingModel> recorded_embedding_model(pqxx::connection_base& conn);

/// How many documents there are, and how many of them lack a vector.
struct EmbeddingProgress {
  std::size_t documents = 0;
  std::size_t pending = 0;
};
EmbeddingProgress embedding_progress(pqxx::connection_base& conn);

/// Up to `limit` texts without a vector, of documents after `after_doc`, in
/// document order (one text once, though several documents share it).
std::vector<PendingText> pending_embedding_texts(pqxx::connection_base& conn, long long after_doc,
                                                 std::size_t limit);

/// Stores one batch in one transaction, recording the model on the first.
/// Throws std::runtime_error (nothing stored) when another model or
/// dimension is recorded, or a vector is not `dimension` long.
void store_embeddings(pqxx::connection_base& conn, const EmbeddingModel& model,
                      const std::vector<PendingText>& texts,
                      const std::vector<std::vector<float>>& vectors);

/// Drops every vector, the recorded model and the stored index (before
/// embedding with another model).
void clear_embeddings(pqxx::connection_base& conn);

/// Drops the vectors no document's text has any more; returns how many.
std::size_t prune_embeddings(pqxx::connection_base& conn);

/// Calls `each` for every document with a vector, in document order,
/// reading `page` rows at a time (never the whole table at once).
void for_each_embedding(pqxx::connection_base& conn, int dimension,
                        const std::function<void(long long doc_id, const float* vector)>& each,
                        std::size_t page = 2000);

/// What identifies the stored vectors (their model, the documents and the
/// vectors, by count and last id), so that an index built from other
/// vectors is not served. Cheap: no text is read.
std::string vectors_signature(pqxx::connection_base& conn);

/// The index the embedding pass stored for the replicas.
struct StoredIndex {
  std::string signature;
  int bits = 0;
};
std::optional<StoredIndex> stored_index(pqxx::connection_base& conn);

/// Replaces the stored index with the file at `path` (hnswlib's format).
void store_index_file(pqxx::connection_base& conn, const StoredIndex& index,
                      const std::string& path);

/// Writes the stored index to `path`; false when there is none.
bool fetch_index_file(pqxx::connection_base& conn, const std::string& path);

/// The message for a database whose vectors come from another model.
std::string model_mismatch_message(const EmbeddingModel& recorded, const std::string& configured);

}  // namespace chrysopedia::search

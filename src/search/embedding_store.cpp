#include "search/embedding_store.hpp"

#include <cstring>
#include <stdexcept>

#include <pqxx/pqxx>

namespace chrysopedia::search {

namespace {

std::string encode(const std::vector<float>& v) {
  // float4 as the machine holds it: little-endian on every target we build.
  static_assert(sizeof(float) == 4);
  std::string bytes(v.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

}  // namespace

std::optional<EmbeddingModel> recorded_embedding_model(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  const auto r = tx.exec("SELECT model, dimension FROM embedding_model WHERE id = 1");
  if (r.empty()) return std::nullopt;
  return EmbeddingModel{r[0][0].as<std::string>(), r[0][1].as<int>()};
}

EmbeddingProgress embedding_progress(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  const auto r = tx.exec1(
      "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS"
      " (SELECT 1 FROM embedding_vectors v WHERE v.hash = e.hash)) FROM embedding_texts e");
  return {r[0].as<std::size_t>(), r[1].as<std::size_t>()};
}

std::vector<PendingText> pending_embedding_texts(pqxx::connection_base& conn, long long after_doc,
                                                 std::size_t limit) {
  pqxx::nontransaction tx(conn);
  // The view is read by document id from `after_doc`, so each batch hashes
  // only the texts it passes, not the whole corpus.
  const auto rows = tx.exec_params(
      "SELECT min(doc_id), hash, min(text) FROM ("
      " SELECT e.doc_id, e.hash, e.text FROM embedding_texts e"
      " WHERE e.doc_id > $1"
      "  AND NOT EXISTS (SELECT 1 FROM embedding_vectors v WHERE v.hash = e.hash)"
      " ORDER BY e.doc_id LIMIT $2) x"
      " GROUP BY hash ORDER BY 1",
      after_doc, static_cast<long long>(limit));
  std::vector<PendingText> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back(
        {row[0].as<long long>(), pqxx::binarystring(row[1]).str(), row[2].as<std::string>()});
  }
  return out;
}

std::string model_mismatch_message(const EmbeddingModel& recorded, const std::string& configured) {
  return "the database holds embeddings of model '" + recorded.model + "' (dimension " +
         std::to_string(recorded.dimension) + "), but EMBEDDINGS_MODEL is '" + configured +
         "': set EMBEDDINGS_MODEL back, or embed again with the new model"
         " (chrysopedia-chat embed --rebuild)";
}

void store_embeddings(pqxx::connection_base& conn, const EmbeddingModel& model,
                      const std::vector<PendingText>& texts,
                      const std::vector<std::vector<float>>& vectors) {
  if (texts.size() != vectors.size()) {
    throw std::runtime_error("the embeddings endpoint returned " + std::to_string(vectors.size()) +
                             " vectors for " + std::to_string(texts.size()) + " texts");
  }
  for (const auto& v : vectors) {
    if (static_cast<int>(v.size()) != model.dimension) {
      throw std::runtime_error("the embeddings endpoint returned a vector of dimension " +
                               std::to_string(v.size()) + " where " +
                               std::to_string(model.dimension) + " was expected");
    }
  }
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO embedding_model (id, model, dimension) VALUES (1, $1, $2)"
      " ON CONFLICT (id) DO NOTHING",
      model.model, model.dimension);
  const auto recorded =
      tx.exec1("SELECT model, dimension FROM embedding_model WHERE id = 1 FOR SHARE");
  if (recorded[0].as<std::string>() != model.model || recorded[1].as<int>() != model.dimension) {
    throw std::runtime_error(model_mismatch_message(
        {recorded[0].as<std::string>(), recorded[1].as<int>()}, model.model));
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    tx.exec_params(
        "INSERT INTO embedding_vectors (hash, vector) VALUES ($1, $2)"
        " ON CONFLICT (hash) DO NOTHING",
        pqxx::binarystring(texts[i].hash), pqxx::binarystring(encode(vectors[i])));
  }
  tx.commit();
}

void clear_embeddings(pqxx::connection_base& conn) {
  pqxx::work tx(conn);
  tx.exec("SELECT lo_unlink(file) FROM embedding_index");
  tx.exec0("TRUNCATE embedding_vectors, embedding_model, embedding_index");
  tx.commit();
}

std::string vectors_signature(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  return tx
      .exec1(
          "SELECT coalesce((SELECT model || ':' || dimension FROM embedding_model), '-')"
          " || '/' || (SELECT count(*) FROM search_documents)"
          " || '/' || (SELECT coalesce(max(id), 0) FROM search_documents)"
          " || '/' || (SELECT count(*) FROM embedding_vectors)")[0]
      .as<std::string>();
}

std::optional<StoredIndex> stored_index(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  const auto r = tx.exec("SELECT signature, bits FROM embedding_index WHERE id = 1");
  if (r.empty()) return std::nullopt;
  return StoredIndex{r[0][0].as<std::string>(), r[0][1].as<int>()};
}

void store_index_file(pqxx::connection_base& conn, const StoredIndex& index,
                      const std::string& path) {
  pqxx::work tx(conn);
  tx.exec("SELECT lo_unlink(file) FROM embedding_index");
  const pqxx::largeobject file(tx, path);
  tx.exec_params(
      "INSERT INTO embedding_index (id, signature, bits, file) VALUES (1, $1, $2, $3)"
      " ON CONFLICT (id) DO UPDATE SET signature = $1, bits = $2, file = $3, built_at = now()",
      index.signature, index.bits, static_cast<long long>(file.id()));
  tx.commit();
}

bool fetch_index_file(pqxx::connection_base& conn, const std::string& path) {
  pqxx::work tx(conn);
  const auto r = tx.exec("SELECT file FROM embedding_index WHERE id = 1");
  if (r.empty()) return false;
  pqxx::largeobject(r[0][0].as<pqxx::oid>()).to_file(tx, path);
  tx.commit();
  return true;
}

std::size_t prune_embeddings(pqxx::connection_base& conn) {
  pqxx::work tx(conn);
  const auto r = tx.exec0(
      "DELETE FROM embedding_vectors v"
      " WHERE NOT EXISTS (SELECT 1 FROM embedding_texts e WHERE e.hash = v.hash)");
  tx.commit();
  return r.affected_rows();
}

void for_each_embedding(pqxx::connection_base& conn, int dimension,
                        const std::function<void(long long doc_id, const float* vector)>& each,
                        std::size_t page) {
  pqxx::nontransaction tx(conn);
  std::vector<float> vector(static_cast<std::size_t>(dimension));
  const std::size_t bytes = vector.size() * sizeof(float);
  long long after = 0;
  for (;;) {
    const auto rows = tx.exec_params(
        "SELECT e.doc_id, v.vector FROM embedding_texts e"
        " JOIN embedding_vectors v ON v.hash = e.hash"
        " WHERE e.doc_id > $1 ORDER BY e.doc_id LIMIT $2",
        after, static_cast<long long>(page));
    for (const auto& row : rows) {
      after = row[0].as<long long>();
      const pqxx::binarystring blob(row[1]);
      if (blob.size() != bytes) continue;  // not of this model's dimension: never stored so
      std::memcpy(vector.data(), blob.data(), bytes);
      each(after, vector.data());
    }
    if (rows.size() < page) return;
  }
}

}  // namespace chrysopedia::search

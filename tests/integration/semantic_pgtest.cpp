// Semantic search against real Postgres: vectors kept by their text's hash
// (so unchanged pages are never embedded twice and a stopped pass resumes),
// one model per database, the replica's index loaded in the background,
// and the semantic neighbours fused into the cascade.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "search/cascade.hpp"
#include "search/embedding_store.hpp"
#include "search/semantic_index.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;
using namespace std::chrono_literals;

namespace {

std::string corpus(const std::string& sidechain_summary = "Duck the bass under the kick.") {
  return page_line(
             "sidechain-bass", "Sidechain compression for bass", "kara", "Kara", "mixing",
             sidechain_summary,
             R"([{"anchor": "setup", "heading": "Setup", "content": "Key it from the kick."}])") +
         "\n" +
         page_line("tape-saturation", "Tape saturation on drums", "milo", "Milo", "mixing",
                   "Warm the drum bus with a tape emulation.",
                   R"([{"anchor": "drive", "heading": "Drive", "content": "Push the input."}])");
}

// Stores a vector for every pending text: [position in the batch, 1, 0].
std::size_t embed_all(pqxx::connection_base& conn, const std::string& model = "m1") {
  const auto pending = search::pending_embedding_texts(conn, 0, 100);
  std::vector<std::vector<float>> vectors;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    vectors.push_back({static_cast<float>(i), 1, 0});
  }
  search::store_embeddings(conn, {model, 3}, pending, vectors);
  return pending.size();
}

long long doc_id(const TestDatabase& db, const std::string& slug, bool section) {
  return std::stoll(
      db.scalar("SELECT d.id FROM search_documents d JOIN technique_pages p ON p.id = d.page_id"
                " WHERE p.slug = '" +
                slug + "' AND d.section_position IS " + (section ? "NOT NULL" : "NULL")));
}

std::vector<std::string> keys(const search::SearchResult& r) {
  std::vector<std::string> out;
  for (const auto& i : r.items) {
    out.push_back(i.slug + (i.section_anchor.empty() ? "" : "#" + i.section_anchor));
  }
  return out;
}

}  // namespace

TEST(EmbeddingStore, UnchangedTextsAreNeverEmbeddedTwice) {
  TestDatabase db;
  db.import(corpus());
  pqxx::connection conn(db.url());
  EXPECT_FALSE(search::recorded_embedding_model(conn));
  auto p = search::embedding_progress(conn);
  EXPECT_EQ(p.documents, 4u);
  EXPECT_EQ(p.pending, 4u);
  EXPECT_EQ(embed_all(conn), 4u);
  EXPECT_EQ(search::embedding_progress(conn).pending, 0u);
  ASSERT_TRUE(search::recorded_embedding_model(conn));
  EXPECT_EQ(search::recorded_embedding_model(conn)->model, "m1");
  EXPECT_EQ(search::recorded_embedding_model(conn)->dimension, 3);

  db.import(corpus());  // the same pages again: new documents, same texts
  EXPECT_EQ(search::embedding_progress(conn).pending, 0u);
  db.import(corpus("Duck the bass under the kick, gently."));  // one text changed
  EXPECT_EQ(search::embedding_progress(conn).pending, 1u);
  EXPECT_EQ(embed_all(conn), 1u);
  EXPECT_EQ(search::prune_embeddings(conn), 1u);  // the old summary's vector
  EXPECT_EQ(db.scalar("SELECT count(*) FROM embedding_vectors"), "4");
}

TEST(EmbeddingStore, APassResumesAfterTheBatchesItCommitted) {
  TestDatabase db;
  db.import(corpus());
  pqxx::connection conn(db.url());
  const auto first = search::pending_embedding_texts(conn, 0, 2);
  ASSERT_EQ(first.size(), 2u);
  search::store_embeddings(conn, {"m1", 3}, first, {{1, 0, 0}, {0, 1, 0}});
  // The pass stops here; the next one is given only what is left.
  const auto rest = search::pending_embedding_texts(conn, 0, 100);
  ASSERT_EQ(rest.size(), 2u);
  for (const auto& r : rest) {
    for (const auto& f : first) EXPECT_NE(r.hash, f.hash);
  }
}

TEST(EmbeddingStore, AnotherModelOrDimensionIsRefusedUntilARebuild) {
  TestDatabase db;
  db.import(corpus());
  pqxx::connection conn(db.url());
  const auto batch = search::pending_embedding_texts(conn, 0, 1);
  search::store_embeddings(conn, {"m1", 3}, batch, {{1, 0, 0}});
  const auto next = search::pending_embedding_texts(conn, 0, 1);
  try {
    search::store_embeddings(conn, {"m2", 3}, next, {{1, 0, 0}});
    FAIL() << "another model was stored";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("model 'm1'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("embed --rebuild"), std::string::npos) << e.what();
  }
  EXPECT_THROW(search::store_embeddings(conn, {"m1", 3}, next, {{1, 0}}), std::runtime_error);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM embedding_vectors"), "1");
  search::clear_embeddings(conn);
  EXPECT_NO_THROW(search::store_embeddings(conn, {"m2", 2}, next, {{1, 0}}));
  EXPECT_EQ(search::recorded_embedding_model(conn)->model, "m2");
}

TEST(SemanticIndex, LoadsInTheBackgroundAndSaysWhatItServes) {
  TestDatabase db;
  db.import(corpus());
  search::SemanticIndex::Options o;
  o.database_url = db.url();
  o.model = "m1";
  o.recheck = 100ms;
  {
    search::SemanticIndex empty(o);
    ASSERT_TRUE(empty.wait_loaded(10s));
    EXPECT_EQ(empty.state(), search::SemanticIndex::State::empty);
    EXPECT_EQ(empty.current(), nullptr);
  }
  pqxx::connection conn(db.url());
  embed_all(conn);
  search::SemanticIndex index(o);
  ASSERT_TRUE(index.wait_loaded(10s));
  EXPECT_EQ(index.state(), search::SemanticIndex::State::ready);
  ASSERT_NE(index.current(), nullptr);
  EXPECT_EQ(index.current()->size(), 4u);
  // New documents are picked up at the next check.
  db.import(page_line("new-page", "A new page", "kara", "Kara", "mixing", "Fresh text."));
  embed_all(conn);
  for (int i = 0; i < 100 && index.current()->size() != 5u; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(index.current()->size(), 5u);

  o.model = "m2";
  search::SemanticIndex other(o);
  ASSERT_TRUE(other.wait_loaded(10s));
  EXPECT_EQ(other.state(), search::SemanticIndex::State::mismatch);
  EXPECT_EQ(other.current(), nullptr);
}

TEST(SemanticIndex, AReplicaLoadsTheStoredIndexOnlyWhileItsVectorsAreCurrent) {
  TestDatabase db;
  db.import(corpus());
  pqxx::connection conn(db.url());
  embed_all(conn);
  const auto model = *search::recorded_embedding_model(conn);
  EXPECT_EQ(search::load_stored_index(conn, 3, {}), nullptr);
  search::build_and_store_index(conn, model, std::size_t{1} << 30);
  ASSERT_TRUE(search::stored_index(conn));
  EXPECT_EQ(search::stored_index(conn)->signature, search::vectors_signature(conn));
  const auto loaded = search::load_stored_index(conn, 3, {});
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->size(), 4u);
  const std::vector<float> q{1, 1, 0};
  const auto built = search::build_vector_index(
      conn, model, search::options_for(conn, model, {}, std::size_t{1} << 30), nullptr);
  ASSERT_EQ(loaded->nearest(q.data(), 4).size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(loaded->nearest(q.data(), 4)[i].doc_id, built->nearest(q.data(), 4)[i].doc_id);
  }
  // Of another dimension: refused, not misread.
  EXPECT_THROW(search::load_stored_index(conn, 5, {}), std::runtime_error);

  // New vectors make the stored index stale: a replica builds its own.
  db.import(page_line("new-page", "A new page", "kara", "Kara", "mixing", "Fresh text."));
  embed_all(conn);
  EXPECT_NE(search::stored_index(conn)->signature, search::vectors_signature(conn));
  search::clear_embeddings(conn);
  EXPECT_FALSE(search::stored_index(conn));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_largeobject_metadata"), "0");
}

TEST(SemanticCascade, NeighboursAreFusedWithTheFullTextRanking) {
  TestDatabase db;
  db.import(corpus());
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 2000);
  const long long tape = doc_id(db, "tape-saturation", false);
  const auto plain = search::run_cascade(conn, {"sidechain", std::nullopt, 10});
  EXPECT_EQ(keys(plain), (std::vector<std::string>{"sidechain-bass", "sidechain-bass#setup"}));
  const auto fused = search::run_cascade(conn, {"sidechain", std::nullopt, 10}, {tape});
  EXPECT_EQ(fused.cascade_tier, "global");
  // The semantic first, which full text did not find, ranks as a full-text
  // third would: after the full-text first and second.
  EXPECT_EQ(keys(fused), (std::vector<std::string>{"sidechain-bass", "sidechain-bass#setup",
                                                   "tape-saturation"}));
}

TEST(SemanticCascade, WhereNoWordMatchesTheNeighboursAreTheSemanticTier) {
  TestDatabase db;
  db.import(corpus());
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 2000);
  const long long drive = doc_id(db, "tape-saturation", true);
  const auto r = search::run_cascade(conn, {"xylophone glockenspiel", std::nullopt, 10}, {drive});
  EXPECT_EQ(r.cascade_tier, "semantic");
  EXPECT_EQ(keys(r), (std::vector<std::string>{"tape-saturation#drive"}));
  EXPECT_EQ(search::run_cascade(conn, {"xylophone glockenspiel", std::nullopt, 10}).cascade_tier,
            "none");
}

TEST(SemanticCascade, TheCreatorTierAndExclusionsHoldForNeighboursToo) {
  TestDatabase db;
  db.import(corpus());
  pqxx::connection conn(db.url());
  search::configure_search_session(conn, 2000);
  const long long tape = doc_id(db, "tape-saturation", false);
  const long long setup = doc_id(db, "sidechain-bass", true);
  const auto by_kara = search::run_cascade(conn, {"sidechain", "kara", 10}, {tape, setup});
  EXPECT_EQ(by_kara.cascade_tier, "creator");
  for (const auto& k : keys(by_kara)) EXPECT_EQ(k.rfind("sidechain-bass", 0), 0u) << k;
  const auto excluded = search::run_cascade(conn, {"sidechain -drum", std::nullopt, 10}, {tape});
  for (const auto& k : keys(excluded)) EXPECT_NE(k, "tape-saturation");
}

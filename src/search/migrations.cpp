#include "search/migrations.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include "search/champions.hpp"

namespace chrysopedia::search {

namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
  void (*then)(pqxx::transaction_base&) = nullptr;  ///< data work after the DDL
};

// Append only: a released migration is never edited, a change is a new one.
constexpr Migration kMigrations[] = {
    {1, "technique pages, sections and their search documents", R"sql(
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TABLE creators (
  id   bigserial PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  name text NOT NULL
);
CREATE INDEX creators_lower_name ON creators (lower(name));

CREATE TABLE technique_pages (
  id             bigserial PRIMARY KEY,
  slug           text NOT NULL UNIQUE,
  title          text NOT NULL,
  creator_id     bigint NOT NULL REFERENCES creators (id),
  topic_category text NOT NULL DEFAULT '',
  topic_tags     text[] NOT NULL DEFAULT '{}',
  summary        text NOT NULL DEFAULT '',
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX technique_pages_lower_title ON technique_pages (lower(title));

CREATE TABLE sections (
  page_id  bigint NOT NULL REFERENCES technique_pages (id) ON DELETE CASCADE,
  position int NOT NULL,
  anchor   text NOT NULL DEFAULT '',
  heading  text NOT NULL DEFAULT '',
  content  text NOT NULL DEFAULT '',
  PRIMARY KEY (page_id, position)
);

-- What the search looks in: one document per page (title A, summary and
-- tags C) and one per section (heading B, text D, the page title D for
-- context). Kept in step with the pages by the importer.
CREATE TABLE search_documents (
  id               bigserial PRIMARY KEY,
  page_id          bigint NOT NULL REFERENCES technique_pages (id) ON DELETE CASCADE,
  section_position int,
  creator_id       bigint NOT NULL,
  tsv              tsvector NOT NULL,
  fuzzy_text       text NOT NULL
);
CREATE INDEX search_documents_tsv ON search_documents USING gin (tsv);
CREATE INDEX search_documents_fuzzy ON search_documents USING gin (fuzzy_text gin_trgm_ops);
CREATE INDEX search_documents_page ON search_documents (page_id);
CREATE INDEX search_documents_creator ON search_documents (creator_id);
)sql"},
    {2, "champion lists: the best documents for each lexeme", R"sql(
-- For each lexeme, the (at most) 100 documents where it weighs most. A
-- query ranks the union of its words' lists instead of every document that
-- contains a common word: bounded work however common the words. A lexeme
-- in at most 100 documents has its whole posting list here, so queries
-- with a rare word are exact.
CREATE TABLE lexeme_champions (
  lexeme text   NOT NULL,
  score  real   NOT NULL,
  doc_id bigint NOT NULL
);
CREATE INDEX lexeme_champions_lookup ON lexeme_champions (lexeme, score DESC, doc_id);
CREATE INDEX lexeme_champions_doc ON lexeme_champions (doc_id);
)sql",
     rebuild_champion_rows},
    {3, "search documents by creator in id order", R"sql(
DROP INDEX IF EXISTS search_documents_creator;
CREATE INDEX search_documents_creator_id ON search_documents (creator_id, id);
)sql"},
    {4, "embeddings of the search documents, by the hash of their text", R"sql(
-- What each search document is embedded from (a page: title, summary and
-- tags; a section: the page title, heading and text), cut to what an
-- embedding model takes, and that text's hash. Vectors are kept by the
-- hash, not the document: a re-import of unchanged pages embeds nothing
-- again, and a pass that stopped half-way resumes where it was.
CREATE VIEW embedding_texts AS
SELECT d.id AS doc_id, t.text, sha256(convert_to(t.text, 'UTF8')) AS hash
FROM search_documents d
JOIN technique_pages p ON p.id = d.page_id
LEFT JOIN sections s ON s.page_id = d.page_id AND s.position = d.section_position
CROSS JOIN LATERAL (SELECT left(CASE WHEN d.section_position IS NULL
  THEN p.title || E'\n' || p.summary || E'\n' || array_to_string(p.topic_tags, ', ')
  ELSE p.title || ': ' || coalesce(s.heading, '') || E'\n' || coalesce(s.content, '') END,
  4000) AS text) t;

-- The one model the vectors come from: another model's vectors do not
-- compare with these, so a change of model is an explicit rebuild.
CREATE TABLE embedding_model (
  id        int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  model     text NOT NULL,
  dimension int NOT NULL CHECK (dimension > 0)
);

CREATE TABLE embedding_vectors (
  hash   bytea PRIMARY KEY,
  vector bytea NOT NULL  -- float4, little-endian, dimension of them
);
)sql"},
    {5, "the semantic index, built once for every replica", R"sql(
-- The HNSW index the embedding pass built (hnswlib's file, as a large
-- object), and which vectors it was built from: a replica whose vectors
-- are these loads it in seconds instead of building its own for minutes.
CREATE TABLE embedding_index (
  id        int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  signature text NOT NULL,
  bits      int NOT NULL,
  file      oid NOT NULL,
  built_at  timestamptz NOT NULL DEFAULT now()
);
)sql"},
    {6, "champion lists as one row per lexeme", R"sql(
-- The same lists as lexeme_champions, a lexeme's whole list in one row
-- (best first): a search reads one row per word of the question instead
-- of up to a hundred index entries, and picks its candidates from them.
-- lexeme_champions stays what import maintains; these rows follow it.
CREATE TABLE lexeme_lists (
  lexeme  text   PRIMARY KEY,
  doc_ids bigint[] NOT NULL,
  scores  real[]   NOT NULL
);
)sql",
     rebuild_lexeme_lists},
    {7, "a generation for the champion lists", R"sql(
-- Searches keep the lists of the words they meet in memory; a change to
-- lexeme_lists, by whatever path (import, migration, an operator's SQL),
-- moves this number on, and a search that finds it moved reads afresh.
CREATE TABLE lexeme_lists_generation (
  id         int    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  generation bigint NOT NULL
);
INSERT INTO lexeme_lists_generation (generation) VALUES (1);
CREATE FUNCTION bump_lexeme_lists_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE lexeme_lists_generation SET generation = generation + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER lexeme_lists_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lexeme_lists
  FOR EACH STATEMENT EXECUTE FUNCTION bump_lexeme_lists_generation();
)sql"},
    {8, "the fuzzy tier by words: their vocabulary, and the documents holding each", R"sql(
-- The trigram tier matched a misspelt word against every document's titles,
-- headings and tags (word_similarity over the whole text): for a short word
-- the trigram index offered tens of thousands of documents at 100,000 pages,
-- each rechecked, a second a search. Now the word is matched against the
-- corpus's distinct words, and each near word leads to its documents in page
-- order. Words as pg_trgm has them: alphanumeric runs, lower-cased.
CREATE FUNCTION fuzzy_words_of(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT coalesce(array_agg(DISTINCT w ORDER BY w), '{}')
      FROM regexp_split_to_table(lower($1), '[^[:alnum:]]+') w WHERE w <> '' $$;
-- pos: the section's position, -1 for the page itself (first, as in the
-- search's order).
CREATE TABLE fuzzy_postings (
  word    text   NOT NULL,
  page_id bigint NOT NULL,
  pos     int    NOT NULL,
  PRIMARY KEY (word, page_id, pos)
);
CREATE INDEX fuzzy_postings_page ON fuzzy_postings (page_id);
INSERT INTO fuzzy_postings
  SELECT DISTINCT unnest(fuzzy_words_of(fuzzy_text)), page_id, coalesce(section_position, -1)
  FROM search_documents;
-- Grows with imports (a word no document holds any more leads nowhere).
CREATE TABLE fuzzy_words (word text PRIMARY KEY);
INSERT INTO fuzzy_words SELECT DISTINCT word FROM fuzzy_postings;
CREATE INDEX fuzzy_words_trigrams ON fuzzy_words USING gin (word gin_trgm_ops);
DROP INDEX IF EXISTS search_documents_fuzzy;
)sql"},
};

}  // namespace

int apply_migrations(pqxx::connection_base& conn) {
  // A schema that is already current needs no write at all, so the service
  // starts against a read-only replica (search is read-only; migrations
  // and imports go to the primary).
  {
    pqxx::nontransaction tx(conn);
    if (tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>() &&
        tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>() >=
            std::end(kMigrations)[-1].version) {
      return 0;
    }
  }
  {
    pqxx::work tx(conn);
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version int PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
  }
  int applied = 0;
  for (const auto& m : kMigrations) {
    pqxx::work tx(conn);
    // Serialise concurrent migrators; the lock ends with the transaction.
    tx.exec("SELECT pg_advisory_xact_lock(727274501)");
    const auto done =
        tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version);
    if (!done.empty()) continue;
    tx.exec0(m.sql);
    if (m.then) m.then(tx);
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                   m.name);
    tx.commit();
    spdlog::info("migration_applied version={} name=\"{}\"", m.version, m.name);
    ++applied;
  }
  return applied;
}

}  // namespace chrysopedia::search

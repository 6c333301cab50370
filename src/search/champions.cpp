#include "search/champions.hpp"

#include <pqxx/pqxx>

namespace chrysopedia::search {

namespace {

// A lexeme's weight in one document: its strongest field (title A 1.0,
// heading B 0.6, summary/tags C 0.3, body D 0.05, as in the ranking), a
// little more for repeats, less in long documents (as ts_rank's
// normalisation 1 does). Only chooses the candidates; the final order
// comes from ts_rank itself.
const std::string kScoredLexemes =
    "SELECT u.lexeme, d.id AS doc_id,"
    " ((CASE WHEN 'A' = ANY(u.weights) THEN 1.0 WHEN 'B' = ANY(u.weights) THEN 0.6"
    "        WHEN 'C' = ANY(u.weights) THEN 0.3 ELSE 0.05 END)"
    "  * (1 + ln(cardinality(u.positions))) / (1 + ln(greatest(length(d.tsv), 1))))::real AS score"
    " FROM search_documents d, unnest(d.tsv) u";

const std::string kPagesDocs =
    "SELECT d.id FROM search_documents d JOIN technique_pages p ON p.id = d.page_id"
    " WHERE p.slug IN (SELECT jsonb_array_elements_text($1::jsonb))";

// A lexeme's row of lexeme_lists from its rows of lexeme_champions, best
// first (the order the search's candidate choice reads them in).
const std::string kListsOf =
    "SELECT lexeme, array_agg(doc_id ORDER BY score DESC, doc_id),"
    " array_agg(score ORDER BY score DESC, doc_id) FROM lexeme_champions";

// Makes the rows of lexeme_lists for the lexemes `lexemes_sql` yields
// ($1 its parameter) what lexeme_champions now holds for them.
void refresh_lists(pqxx::transaction_base& tx, const std::string& lexemes_sql,
                   const std::string& param) {
  tx.exec_params0("DELETE FROM lexeme_lists WHERE lexeme IN (" + lexemes_sql + ")", param);
  tx.exec_params0("INSERT INTO lexeme_lists (lexeme, doc_ids, scores) " + kListsOf +
                      " WHERE lexeme IN (" + lexemes_sql + ") GROUP BY lexeme",
                  param);
}

const std::string kPagesLexemes =
    "SELECT DISTINCT u.lexeme FROM search_documents d, unnest(d.tsv) u WHERE d.id IN (" +
    kPagesDocs + ")";

}  // namespace

void rebuild_lexeme_lists(pqxx::transaction_base& tx) {
  tx.exec0("TRUNCATE lexeme_lists");
  tx.exec0("INSERT INTO lexeme_lists (lexeme, doc_ids, scores) " + kListsOf + " GROUP BY lexeme");
  tx.exec0("ANALYZE lexeme_lists");
}

void rebuild_champions(pqxx::transaction_base& tx) {
  rebuild_champion_rows(tx);
  rebuild_lexeme_lists(tx);
}

void rebuild_champion_rows(pqxx::transaction_base& tx) {
  tx.exec0("SET LOCAL work_mem = '256MB'");
  tx.exec0("TRUNCATE lexeme_champions");
  tx.exec0(
      "INSERT INTO lexeme_champions (lexeme, score, doc_id)"
      " SELECT lexeme, score, doc_id FROM ("
      "  SELECT s.*, row_number() OVER (PARTITION BY lexeme ORDER BY score DESC, doc_id) AS rn"
      "  FROM (" +
      kScoredLexemes +
      ") s) ranked"
      " WHERE rn <= " +
      std::to_string(kChampionsPerLexeme));
  // Plans over these tables go badly wrong without fresh statistics.
  tx.exec0("ANALYZE lexeme_champions");
  tx.exec0("ANALYZE search_documents");
}

void add_champions(pqxx::transaction_base& tx, const std::string& page_slugs_json) {
  tx.exec_params0(
      "INSERT INTO lexeme_champions (lexeme, score, doc_id)"
      " SELECT lexeme, score, doc_id FROM (" +
          kScoredLexemes +
          ") s"
          " WHERE s.doc_id IN (" +
          kPagesDocs + ")",
      page_slugs_json);
  tx.exec_params0(
      "DELETE FROM lexeme_champions c USING ("
      " SELECT ctid AS row_id FROM ("
      "  SELECT ctid, row_number() OVER (PARTITION BY lexeme ORDER BY score DESC, doc_id) AS rn"
      "  FROM lexeme_champions WHERE lexeme IN (" +
          kPagesLexemes +
          ")) ranked"
          " WHERE rn > " +
          std::to_string(kChampionsPerLexeme) +
          ") extra"
          " WHERE c.ctid = extra.row_id",
      page_slugs_json);
  refresh_lists(tx, kPagesLexemes, page_slugs_json);
}

void remove_champions(pqxx::transaction_base& tx, const std::string& page_slugs_json) {
  const auto gone =
      tx.exec_params1("WITH gone AS (DELETE FROM lexeme_champions WHERE doc_id IN (" + kPagesDocs +
                          ") RETURNING lexeme)"
                          " SELECT coalesce(jsonb_agg(DISTINCT lexeme), '[]') FROM gone",
                      page_slugs_json);
  refresh_lists(tx, "SELECT jsonb_array_elements_text($1::jsonb)", gone[0].as<std::string>());
}

}  // namespace chrysopedia::search

// Matching and ranking in the process agree with Postgres to the bit: every
// document of the sample corpus against the questions of three evaluation
// sets (as the search builds its queries, and as Postgres's own parsers
// do) and against queries written to reach the corners of phrase
// matching: negation, prefixes, weights, nested phrases.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/document_store.hpp"
#include "search/memory_ranking.hpp"
#include "search/thesaurus.hpp"
#include "search/ts_match.hpp"
#include "search/ts_query.hpp"
#include "search/ts_rank.hpp"
#include "search/ts_vector.hpp"
#include "support/test_database.hpp"

using namespace chrysopedia;
using namespace chrysopedia::test;

namespace {

std::vector<std::string> questions_of(const std::string& file) {
  std::ifstream in(std::string(CHRYSOPEDIA_SOURCE_DIR) + "/data/" + file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    if (j.contains("question")) out.push_back(j["question"].get<std::string>());
  }
  return out;
}

// Queries that reach what phraseto_tsquery and websearch_to_tsquery do
// not build, on words the sample corpus holds.
const std::vector<std::string> kWritten = {
    "'kick' <-> 'drum'",
    "'kick' <2> 'drum'",
    "'kick' <-> !'drum'",
    "!'kick' <-> 'drum'",
    "!'kick' <-> !'drum'",
    "!( 'kick' <-> 'drum' )",
    "( 'kick' | 'bass' ) <-> 'drum'",
    "( 'kick' | 'snare' ) <2> ( 'drum' | 'bass' )",
    "'sidechain' <-> ( 'compress' & 'bass' )",
    "'sidechain' <-> ( 'compress' | !'bass' )",
    "( 'bass' <-> 'drum' ) <-> 'kick'",
    "'bass' <-> ( 'drum' <-> 'kick' )",
    "( 'kick' & 'bass' ) <-> 'drum'",
    "'kick':* & 'mix'",
    "'comp':* <-> 'bass'",
    "'mix':A",
    "'mix':BC | 'vocal':A",
    "'kick':A <-> 'drum'",
    "'kick' & !'bass'",
    "!'kick'",
    "!'kick' | 'reverb'",
    "'reverb' & 'vocal' & 'delay'",
    "'reverb' <-> 'vocal' | 'delay' <3> 'feedback'",
    "'nosuchword' | 'kick'",
    "'nosuchword' <-> 'kick'",
    "'kick'",
    "'kick' & 'kick'",
    "'kick' <-> 'kick'",
    "'kick' <0> 'drum'",
    "'eq' <-> !'low' <-> 'cut'",
};

std::vector<bool> bools_of(const pqxx::field& f) {
  std::vector<bool> out;
  auto parser = f.as_array();
  for (auto [j, v] = parser.get_next(); j != pqxx::array_parser::done;
       std::tie(j, v) = parser.get_next()) {
    if (j == pqxx::array_parser::string_value) out.push_back(v == "t");
  }
  return out;
}

std::vector<double> doubles_of(const pqxx::field& f) {
  std::vector<double> out;
  auto parser = f.as_array();
  for (auto [j, v] = parser.get_next(); j != pqxx::array_parser::done;
       std::tie(j, v) = parser.get_next()) {
    if (j == pqxx::array_parser::string_value) out.push_back(std::stod(v));
  }
  return out;
}

}  // namespace

TEST(TsRank, EveryDocumentAgainstEveryQueryAgreesWithPostgres) {
  TestDatabase db;
  db.import(sample_corpus());
  pqxx::connection conn(db.url());
  pqxx::nontransaction tx(conn);

  std::vector<std::pair<std::string, search::TsVector>> documents;
  for (const auto& row : tx.exec("SELECT tsv::text FROM search_documents ORDER BY id")) {
    auto v = search::parse_tsvector(row[0].c_str());
    ASSERT_TRUE(v) << row[0].c_str();
    documents.emplace_back(row[0].c_str(), std::move(*v));
  }
  ASSERT_GT(documents.size(), 200u);

  // Each question as the search's terms (one OR of its words' phrases),
  // and as Postgres's three parsers read it.
  nlohmann::json sources = nlohmann::json::array();
  for (const char* file :
       {"retrieval-eval.jsonl", "retrieval-eval-holdout.jsonl", "retrieval-eval-fourth.jsonl"}) {
    for (const auto& q : questions_of(file)) sources.push_back(q);
  }
  ASSERT_GT(sources.size(), 300u);
  nlohmann::json written = kWritten;

  const auto rows = tx.exec_params(
      "WITH q AS ("
      " SELECT websearch_to_tsquery('english', s) AS q FROM jsonb_array_elements_text($1::jsonb) s"
      " UNION ALL SELECT plainto_tsquery('english', s) FROM jsonb_array_elements_text($1::jsonb) s"
      " UNION ALL SELECT phraseto_tsquery('english', s) FROM jsonb_array_elements_text($1::jsonb) s"
      // as the search's terms: an OR of each word's phrase, and of each
      // two words' phrase (stop words between them: <2>, <3>)
      " UNION ALL SELECT (SELECT string_agg('(' || x.q::text || ')', ' | ')::tsquery"
      "   FROM (SELECT phraseto_tsquery('english', w) AS q"
      "         FROM regexp_split_to_table(s, '\\s+') w OFFSET 0) x WHERE numnode(x.q) > 0)"
      "  FROM jsonb_array_elements_text($1::jsonb) s"
      " UNION ALL SELECT (SELECT string_agg('(' || x.q::text || ')', ' | ')::tsquery"
      "   FROM (SELECT phraseto_tsquery('english', w || ' ' || coalesce(nx, '')) AS q"
      "         FROM (SELECT w, lead(w) OVER (ORDER BY n) AS nx"
      "               FROM regexp_split_to_table(s, '\\s+') WITH ORDINALITY AS t(w, n)) p"
      "         OFFSET 0) x WHERE numnode(x.q) > 0)"
      "  FROM jsonb_array_elements_text($1::jsonb) s"
      " UNION ALL SELECT t::tsquery FROM jsonb_array_elements_text($2::jsonb) t),"
      // (each distinct query once; its text reads back as the same tree)
      " qs AS (SELECT DISTINCT q::text AS t FROM q WHERE q IS NOT NULL)"
      " SELECT q.q::text,"
      "  array_agg(d.tsv @@ q.q ORDER BY d.id),"
      "  array_agg(ts_rank('{0.05, 0.3, 0.6, 1.0}', d.tsv, q.q, 1)::float8 ORDER BY d.id),"
      "  array_agg(ts_rank(d.tsv, q.q)::float8 ORDER BY d.id)"
      " FROM (SELECT t::tsquery AS q FROM qs) q, search_documents d GROUP BY q.q::text",
      sources.dump(), written.dump());
  ASSERT_GT(rows.size(), 900u);

  const std::array<float, 4> ours{0.05f, 0.3f, 0.6f, 1.0f};
  const std::array<float, 4> postgres_default{0.1f, 0.2f, 0.4f, 1.0f};
  std::size_t compared = 0, matched = 0, phrase_matched = 0;
  for (const auto& row : rows) {
    const std::string text = row[0].c_str();
    const auto query = search::parse_tsquery(text);
    ASSERT_TRUE(query) << text;
    const auto matches = bools_of(row[1]);
    const auto ranks = doubles_of(row[2]);
    const auto default_ranks = doubles_of(row[3]);
    ASSERT_EQ(matches.size(), documents.size());
    ASSERT_EQ(ranks.size(), documents.size());
    ASSERT_EQ(default_ranks.size(), documents.size());
    for (std::size_t i = 0; i < documents.size(); ++i) {
      const auto& [tsv_text, tsv] = documents[i];
      const bool m = search::ts_matches(tsv, *query);
      ASSERT_EQ(m, matches[i]) << text << " @@ " << tsv_text;
      ASSERT_EQ(static_cast<double>(search::ts_rank(ours, tsv, *query, 1)), ranks[i])
          << "ts_rank(ours, " << tsv_text << ", " << text << ", 1)";
      ASSERT_EQ(static_cast<double>(search::ts_rank(postgres_default, tsv, *query, 0)),
                default_ranks[i])
          << "ts_rank(" << tsv_text << ", " << text << ")";
      ++compared;
      if (m) {
        ++matched;
        if (text.find("<") != std::string::npos) ++phrase_matched;
      }
    }
  }
  std::printf("queries=%zu pairs=%zu matched=%zu phrase_matched=%zu\n", rows.size(), compared,
              matched, phrase_matched);
  // The comparison reached what it is for: many matches, phrases among them.
  EXPECT_GT(compared, 200000u);
  EXPECT_GT(matched, 10000u);
  EXPECT_GT(phrase_matched, 100u);
}

// The queries the in-process ranking builds (memory_ranking.hpp) match and
// rank as Postgres's own parsers' do: websearch_to_tsquery of every
// evaluation question, phraseto_tsquery of each question and of every
// phrase of the thesaurus (through the phrases Postgres read for the
// process where it cannot read them itself).
TEST(TsRank, QueriesBuiltInTheProcessMatchAndRankAsPostgresOwn) {
  TestDatabase db;
  db.import(sample_corpus());
  pqxx::connection conn(db.url());
  const auto store = search::read_document_store(conn, 64 << 20).store;
  ASSERT_NE(store, nullptr);
  ASSERT_GT(store->phrases.size(), 500u);
  std::vector<std::string> questions;
  for (const char* file :
       {"retrieval-eval.jsonl", "retrieval-eval-holdout.jsonl", "retrieval-eval-fresh.jsonl",
        "retrieval-eval-fourth.jsonl", "retrieval-eval-fifth.jsonl", "retrieval-eval-sixth.jsonl",
        "retrieval-eval-seventh.jsonl"}) {
    for (auto& q : questions_of(file)) questions.push_back(std::move(q));
  }
  const auto phrases = search::Thesaurus::builtin().phrases();
  struct Asked {
    std::string text;
    const char* how;  // websearch_to_tsquery or phraseto_tsquery
    search::TsQuery ours;
  };
  std::vector<Asked> asked;
  std::size_t unread = 0;
  for (const auto& q : questions) {
    if (auto w = search::websearch_query(q)) {
      asked.push_back({q, "websearch_to_tsquery", std::move(*w)});
    } else {
      ++unread;
    }
    if (auto p = search::phrase_query(q)) asked.push_back({q, "phraseto_tsquery", std::move(*p)});
  }
  for (const auto& p : phrases) {
    auto q = search::phrase_query(p, &store->phrases);
    ASSERT_TRUE(q) << p;
    asked.push_back({p, "phraseto_tsquery", std::move(*q)});
  }
  // Most questions are read in the process; the rest go to Postgres.
  EXPECT_GT(asked.size(), phrases.size() + questions.size());
  EXPECT_LT(unread, questions.size() / 3);

  nlohmann::json texts = nlohmann::json::array();
  for (const auto& a : asked) texts.push_back({a.text, a.how});
  pqxx::nontransaction tx(conn);
  const auto rows = tx.exec_params(
      "SELECT ord, array_agg(d.tsv @@ q ORDER BY d.id),"
      " array_agg(ts_rank('{0.05, 0.3, 0.6, 1.0}', d.tsv, q, 1)::float8 ORDER BY d.id)"
      " FROM (SELECT ord, CASE WHEN t->>1 = 'websearch_to_tsquery'"
      "  THEN websearch_to_tsquery('english', t->>0) ELSE phraseto_tsquery('english', t->>0) END"
      "  AS q FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY a(t, ord)) x,"
      " search_documents d GROUP BY ord ORDER BY ord",
      texts.dump());
  ASSERT_EQ(rows.size(), asked.size());
  const std::array<float, 4> weights{0.05f, 0.3f, 0.6f, 1.0f};
  std::size_t matched = 0;
  for (std::size_t k = 0; k < asked.size(); ++k) {
    const auto& a = asked[k];
    const auto matches = bools_of(rows[k][1]);
    const auto ranks = doubles_of(rows[k][2]);
    ASSERT_EQ(matches.size(), store->documents.size());
    for (std::size_t i = 0; i < store->documents.size(); ++i) {
      const auto& tsv = store->documents[i].tsv;
      const bool m = search::ts_matches(tsv, a.ours);
      ASSERT_EQ(m, matches[i]) << a.how << "('" << a.text << "') on document " << i;
      ASSERT_EQ(static_cast<double>(search::ts_rank(weights, tsv, a.ours, 1)), ranks[i])
          << a.how << "('" << a.text << "') on document " << i;
      matched += m ? 1 : 0;
    }
  }
  std::printf("queries built=%zu questions left to postgres=%zu matches=%zu\n", asked.size(),
              unread, matched);
  EXPECT_GT(matched, 10000u);
}

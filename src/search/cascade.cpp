#include "search/cascade.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/query_syntax.hpp"

namespace chrysopedia::search {

namespace {

// ts_rank weights for D, C, B, A: body, summary/tags, heading, title.
constexpr const char* kWeights = "'{0.05, 0.3, 0.6, 1.0}'";

// The ranked subquery yields (ord, page_id, section_position); this turns
// those keys into items, in rank order.
std::string with_items(const std::string& ranked) {
  return "SELECT p.title, p.slug, c.name, p.topic_category,"
         " coalesce(s.content, p.summary), coalesce(s.anchor, ''), coalesce(s.heading, '')"
         " FROM (" +
         ranked +
         ") r"
         " JOIN technique_pages p ON p.id = r.page_id"
         " JOIN creators c ON c.id = p.creator_id"
         " LEFT JOIN sections s ON s.page_id = r.page_id AND s.position = r.section_position"
         " ORDER BY r.ord";
}

const std::string& strict_sql() {
  // All of the query's words (web-search syntax honoured). A page whose
  // title is the query itself comes first.
  static const std::string sql = with_items(
      "SELECT row_number() OVER () AS ord, page_id, section_position FROM ("
      " SELECT d.page_id, d.section_position FROM search_documents d"
      " WHERE d.tsv @@ websearch_to_tsquery('english', $1) AND ($2 = 0 OR d.creator_id = $2)"
      " ORDER BY (d.section_position IS NULL AND d.page_id = $3) DESC,"
      "  ts_rank(" +
      std::string(kWeights) +
      ", d.tsv, websearch_to_tsquery('english', $1), 1) DESC,"
      "  d.page_id, d.section_position NULLS FIRST"
      " LIMIT $4) k");
  return sql;
}

const std::string& loose_sql() {
  // Any of the words: most words matched first, then weighted relevance.
  // $1: the terms OR'ed, as a tsquery; $2: each term's tsquery (JSON
  // array); $3: what to exclude (a tsquery, '' for nothing).
  static const std::string sql = with_items(
      "SELECT row_number() OVER () AS ord, page_id, section_position FROM ("
      " SELECT d.page_id, d.section_position FROM search_documents d"
      " WHERE d.tsv @@ $1::tsquery AND ($3 = '' OR NOT d.tsv @@ $3::tsquery)"
      "  AND ($4 = 0 OR d.creator_id = $4)"
      " ORDER BY (SELECT count(*) FROM jsonb_array_elements_text($2::jsonb) t"
      "           WHERE d.tsv @@ t::tsquery) DESC,"
      "  ts_rank(" +
      std::string(kWeights) +
      ", d.tsv, $1::tsquery, 1) DESC,"
      "  d.page_id, d.section_position NULLS FIRST"
      " LIMIT $5) k");
  return sql;
}

const std::string& fuzzy_sql() {
  // Misspellings: each significant word against titles, headings and tags
  // by trigram word similarity.
  static const std::string sql = with_items(
      "SELECT row_number() OVER () AS ord, page_id, section_position FROM ("
      " SELECT d.page_id, d.section_position FROM ("
      "  SELECT w FROM jsonb_array_elements_text($1::jsonb) w"
      "  WHERE length(w) >= 3 AND numnode(plainto_tsquery('english', w)) > 0) words"
      " JOIN search_documents d ON words.w <% d.fuzzy_text"
      " GROUP BY d.page_id, d.section_position"
      " ORDER BY sum(word_similarity(words.w, d.fuzzy_text)) DESC,"
      "  d.page_id, d.section_position NULLS FIRST"
      " LIMIT $2) k");
  return sql;
}

std::vector<SearchItem> to_items(const pqxx::result& rows) {
  std::vector<SearchItem> items;
  items.reserve(rows.size());
  for (const auto& row : rows) {
    items.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                     row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>(),
                     row[6].as<std::string>()});
  }
  return items;
}

long long find_creator(pqxx::work& tx, const std::string& creator) {
  const auto r = tx.exec_params(
      "SELECT id FROM creators"
      " WHERE lower(slug) = lower($1) OR lower(unaccent(name)) = lower(unaccent($1))"
      "  OR slug = trim(both '-' from regexp_replace(lower(unaccent($1)), '[^a-z0-9]+', '-', 'g'))"
      " ORDER BY id LIMIT 1",
      creator);
  return r.empty() ? 0 : r[0][0].as<long long>();
}

long long exact_title_page(pqxx::work& tx, const std::string& query, long long creator_id) {
  std::string q = query;
  while (!q.empty() && std::string(" \t?.!").find(q.back()) != std::string::npos) q.pop_back();
  const auto r = tx.exec_params(
      "SELECT id FROM technique_pages WHERE lower(title) = lower($1) AND ($2 = 0 OR creator_id = "
      "$2)"
      " ORDER BY id LIMIT 1",
      q, creator_id);
  return r.empty() ? 0 : r[0][0].as<long long>();
}

std::vector<SearchItem> full_text(pqxx::work& tx, const SearchRequest& req,
                                  const ParsedQuery& parsed, long long creator_id) {
  const long long exact = exact_title_page(tx, req.query, creator_id);
  auto items = to_items(tx.exec_params(strict_sql(), req.query, creator_id, exact, req.limit));
  if (static_cast<int>(items.size()) >= req.limit || parsed.terms.size() < 2) return items;

  // Fewer than `limit` pages hold every word: fill up with the pages that
  // hold most of them. Each term becomes a tsquery (stop words drop out).
  nlohmann::json term_queries = nlohmann::json::array();
  std::string any, excluded;
  for (const auto& t : parsed.terms) {
    const auto q =
        tx.exec_params1("SELECT phraseto_tsquery('english', $1)::text", t)[0].as<std::string>();
    if (q.empty()) continue;
    term_queries.push_back(q);
    any += (any.empty() ? "(" : " | (") + q + ")";
  }
  for (const auto& t : parsed.excluded) {
    const auto q =
        tx.exec_params1("SELECT phraseto_tsquery('english', $1)::text", t)[0].as<std::string>();
    if (!q.empty()) excluded += (excluded.empty() ? "(" : " | (") + q + ")";
  }
  if (term_queries.size() < 2) return items;
  auto more = to_items(tx.exec_params(loose_sql(), any, term_queries.dump(), excluded, creator_id,
                                      req.limit + static_cast<int>(items.size())));
  for (auto& item : more) {
    if (static_cast<int>(items.size()) >= req.limit) break;
    if (std::find(items.begin(), items.end(), item) == items.end())
      items.push_back(std::move(item));
  }
  return items;
}

std::vector<SearchItem> fuzzy(pqxx::work& tx, const SearchRequest& req, const ParsedQuery& parsed) {
  nlohmann::json words = nlohmann::json::array();
  for (const auto& term : parsed.terms) {
    std::string word;
    for (char c : term + " ") {
      if (std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80)) {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!word.empty()) {
        words.push_back(word);
        word.clear();
      }
    }
  }
  if (words.empty()) return {};
  return to_items(tx.exec_params(fuzzy_sql(), words.dump(), req.limit));
}

}  // namespace

void configure_search_session(pqxx::connection_base& conn, int statement_timeout_ms) {
  pqxx::nontransaction tx(conn);
  tx.exec0("SET statement_timeout = " + std::to_string(statement_timeout_ms));
  tx.exec0("SET client_min_messages = warning");
  tx.exec0("SET pg_trgm.word_similarity_threshold = 0.5");
}

SearchResult run_cascade(pqxx::connection_base& conn, const SearchRequest& req) {
  pqxx::work tx(conn);
  const ParsedQuery parsed = parse_query(req.query);
  SearchResult result;

  if (req.creator && !req.creator->empty()) {
    if (const long long creator_id = find_creator(tx, *req.creator); creator_id != 0) {
      result.items = full_text(tx, req, parsed, creator_id);
      if (!result.items.empty()) {
        result.cascade_tier = "creator";
        return result;
      }
    }
  }
  result.items = full_text(tx, req, parsed, 0);
  if (!result.items.empty()) {
    result.cascade_tier = "global";
    return result;
  }
  result.items = fuzzy(tx, req, parsed);
  result.cascade_tier = result.items.empty() ? "none" : "fuzzy";
  return result;
}

}  // namespace chrysopedia::search

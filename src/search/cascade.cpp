#include "search/cascade.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "common/ascii.hpp"
#include "search/candidates.hpp"
#include "search/followup.hpp"
#include "search/fusion.hpp"
#include "search/list_cache.hpp"
#include "search/memory_ranking.hpp"
#include "search/query_syntax.hpp"
#include "search/spelling.hpp"
#include "search/stop_words.hpp"
#include "search/thesaurus.hpp"

namespace chrysopedia::search {

namespace {

// ts_rank weights for D, C, B, A: body, summary/tags, heading, title.
constexpr const char* kWeights = "'{0.05, 0.3, 0.6, 1.0}'";

// What the query excludes ($3 in both statements that use it: a JSON array
// of words and phrases) as one tsquery, NULL when nothing is excluded; each
// phrase's tsquery built once (MATERIALIZED, OFFSET 0), not per candidate.
// A macro so that both statements stay single string literals.
#define CHRYSOPEDIA_EXCLUDED_CTE                                    \
  "excluded AS MATERIALIZED ("                                      \
  "  SELECT string_agg('(' || q::text || ')', ' | ')::tsquery AS q" \
  "  FROM (SELECT phraseto_tsquery('english', t) AS q"              \
  "        FROM jsonb_array_elements_text($3::jsonb) t OFFSET 0) s WHERE numnode(q) > 0)"

// The ranked subquery yields (ord, page_id, section_position); this turns
// those keys into items, in rank order.
// `extra`: more columns after the item's seven.
std::string with_items(const std::string& ranked, const std::string& extra = "") {
  return "SELECT p.title, p.slug, c.name, p.topic_category,"
         " coalesce(s.content, p.summary), coalesce(s.anchor, ''), coalesce(s.heading, '')" +
         extra + " FROM (" + ranked +
         ") r"
         " JOIN technique_pages p ON p.id = r.page_id"
         " JOIN creators c ON c.id = p.creator_id"
         " LEFT JOIN sections s ON s.page_id = r.page_id AND s.position = r.section_position"
         " ORDER BY r.ord";
}

// Each word's lexemes and their champion lists ($1: the words, a JSON
// array), with the lists' generation: a row per word and lexeme, a word
// without lexemes (a stop word) or a lexeme without a list (not in the
// corpus) with NULLs, so that what is missing is known too.
const char* const kWordListsSql =
    "SELECT w.a, x.lexeme, l.doc_ids, l.scores,"
    " (SELECT generation FROM lexeme_lists_generation)"
    " FROM jsonb_array_elements_text($1::jsonb) w(a)"
    " LEFT JOIN LATERAL (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', w.a)))"
    "  AS lexeme) x ON true"
    // OFFSET 0: one primary-key lookup per lexeme, whatever the estimate.
    " LEFT JOIN LATERAL (SELECT * FROM lexeme_lists WHERE lexeme = x.lexeme OFFSET 0) l ON true";

// The champion lists of the lexemes asked ($1, a JSON array) that the
// corpus holds: a misspelt word's neighbours (add_spellings).
const char* const kSpellingListsSql =
    "SELECT l.lexeme, l.doc_ids, l.scores FROM jsonb_array_elements_text($1::jsonb) w(a)"
    " JOIN lexeme_lists l ON l.lexeme = w.a";

const std::string& full_text_sql() {
  // $1 the user's query as typed, $2 its terms (JSON array of arrays: each
  // term's words or phrase, then what the thesaurus adds for it), $3 what
  // it excludes (JSON array), $4 creator id (0: any), $5 the query as a
  // title (trimmed of trailing punctuation), $6 limit, $7 the candidates
  // chosen from the champion lists (choose_term_candidates; JSON array of ids).
  // Each row ends with the lists' generation.
  //
  // Candidates are those (plus, for a creator, the matches among its first
  // 200 documents), so the work is bounded however common the words. Among
  // them: the exact-title page first, then documents holding all the words
  // (web-search syntax honoured), then those holding most of them, then
  // weighted relevance.
  static const std::string sql = with_items(
      // A term is what the user wrote or what the thesaurus says it may
      // also be written as: any of them matches the term. (Weighting terms
      // by rarity instead of counting them was tried: lay and synonym
      // questions lost 0.1 MRR, as incidental rare words outranked the
      // question's point.)
      // (Each OFFSET 0 keeps a subquery whole: flattened, its filter
      // repeated the expression it tests, so every alternative's tsquery
      // was built four times, 0.1 ms of a long question's 0.7.)
      "WITH terms AS ("
      "  SELECT q FROM (SELECT (SELECT string_agg('(' || x.q::text || ')', ' | ')::tsquery"
      "                        FROM (SELECT phraseto_tsquery('english', a) AS q"
      "                              FROM jsonb_array_elements_text(g) a OFFSET 0) x"
      "                        WHERE numnode(x.q) > 0) AS q"
      "                 FROM jsonb_array_elements($2::jsonb) g OFFSET 0) s WHERE q IS NOT NULL),"
      " any_term AS (SELECT string_agg('(' || q::text || ')', ' | ')::tsquery AS q FROM terms),"
      " " CHRYSOPEDIA_EXCLUDED_CTE
      ","
      // The page whose title is the query, if any (0: none); folded in here
      // to save a round trip per search.
      " exact AS MATERIALIZED (SELECT coalesce((SELECT id FROM technique_pages WHERE lower(title) "
      "= lower($5)"
      "  AND ($4 = 0 OR creator_id = $4) ORDER BY id LIMIT 1), 0) AS id),"
      // One-row CTEs are MATERIALIZED: referenced once, Postgres would
      // inline them and evaluate websearch_to_tsquery per candidate row
      // (half of Postgres's time per search under load).
      " web AS MATERIALIZED (SELECT websearch_to_tsquery('english', $1) AS q),"
      " candidates AS MATERIALIZED ("
      "  SELECT jsonb_array_elements_text($7::jsonb)::bigint AS doc_id"
      "  UNION"
      // A creator's first 200 documents: all of a small creator's, and a
      // bounded sample of a prolific one's (whose best documents for each
      // word are in the champion lists anyway). Not the full-text index:
      // its bitmap for a common word costs more than the whole search.
      "  SELECT g.id FROM (SELECT d.id, d.tsv FROM search_documents d"
      "                    WHERE $4 <> 0 AND d.creator_id = $4 ORDER BY d.id LIMIT 200) g,"
      "   any_term a WHERE g.tsv @@ a.q"
      "  UNION"
      "  SELECT d.id FROM search_documents d, exact e"
      "  WHERE d.page_id = e.id AND d.section_position IS NULL)"
      " SELECT row_number() OVER () AS ord, page_id, section_position, matched FROM ("
      "  SELECT d.page_id, d.section_position,"
      "   (SELECT count(*) FROM terms t WHERE d.tsv @@ t.q) AS matched"
      "  FROM candidates k, any_term a, excluded x, exact e, web w,"
      // OFFSET 0 keeps this a per-candidate primary-key lookup: left to
      // itself the planner hashes every document that matches any word.
      "   LATERAL (SELECT * FROM search_documents WHERE id = k.doc_id OFFSET 0) d"
      "  WHERE (d.tsv @@ a.q OR (d.page_id = e.id AND d.section_position IS NULL))"
      "   AND (x.q IS NULL OR NOT d.tsv @@ x.q) AND ($4 = 0 OR d.creator_id = $4)"
      "  ORDER BY (d.section_position IS NULL AND d.page_id = e.id) DESC,"
      "   (d.tsv @@ w.q) DESC, matched DESC,"
      "   ts_rank(" +
          std::string(kWeights) +
          ", d.tsv, a.q, 1) DESC,"
          "   d.page_id, d.section_position NULLS FIRST"
          "  LIMIT $6) ranked",
      // The champion lists' generation, in the same snapshot as the
      // ranking: candidates chosen from cached lists stand if it is theirs.
      ", (SELECT generation FROM lexeme_lists_generation), r.matched");
  return sql;
}

// The trigram tier's reach: a word's nearest corpus words, and each near
// word's first documents in page order. Bounded so that its cost does not
// grow with the corpus (a common near word is in most documents at 100,000
// pages); beyond them the order is the page order anyway.
constexpr int kFuzzyNearWords = 8;
constexpr int kFuzzyDocumentsPerWord = 100;

const std::string& fuzzy_sql() {
  // Misspellings: each significant word against the distinct words of
  // titles, headings and tags (fuzzy_words, migration 8) by trigram
  // similarity; a document scores, for each word, its nearest word's
  // similarity. (word_similarity against each document's whole text, as
  // before, let a short word match across two, "snre" in "texture snare"
  // at 0.6 against 0.4 for "snare", and rechecked every document the
  // trigram index offered: a second a search at 100,000 pages.)
  static const std::string sql = with_items(
      "WITH words AS MATERIALIZED ("
      "  SELECT DISTINCT w FROM jsonb_array_elements_text($1::jsonb) w"
      "  WHERE length(w) >= 3 AND numnode(plainto_tsquery('english', w)) > 0),"
      " near AS MATERIALIZED ("
      "  SELECT x.w, v.word, v.s FROM words x CROSS JOIN LATERAL ("
      "   SELECT f.word, similarity(x.w, f.word) AS s FROM fuzzy_words f WHERE x.w % f.word"
      // (a word no page holds since its page was imported again is kept
      // in fuzzy_words, and takes no near word's place)
      "    AND EXISTS (SELECT 1 FROM fuzzy_postings p WHERE p.word = f.word)"
      "   ORDER BY s DESC, f.word LIMIT " +
      std::to_string(kFuzzyNearWords) +
      ") v),"
      " hits AS ("
      "  SELECT f.page_id, f.pos, n.w, max(n.s) AS s FROM near n CROSS JOIN LATERAL ("
      "   SELECT page_id, pos FROM fuzzy_postings WHERE word = n.word"
      "   ORDER BY page_id, pos LIMIT " +
      std::to_string(kFuzzyDocumentsPerWord) +
      ") f"
      "  GROUP BY f.page_id, f.pos, n.w)"
      " SELECT row_number() OVER () AS ord, page_id, nullif(pos, -1) AS section_position FROM ("
      "  SELECT page_id, pos FROM hits GROUP BY page_id, pos"
      "  ORDER BY sum(s) DESC, page_id, pos"
      "  LIMIT $2) k");
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

// The semantic neighbours' items, in the order given, less those outside
// the creator (when the creator tier served) and those holding an excluded
// word. $1 document ids (JSON array), $2 creator id (0: any), $3 excluded.
const char* const kSemanticItemsSql =
    "WITH " CHRYSOPEDIA_EXCLUDED_CTE
    " SELECT p.title, p.slug, c.name, p.topic_category,"
    "  coalesce(s.content, p.summary), coalesce(s.anchor, ''), coalesce(s.heading, '')"
    " FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY ids(id, ord)"
    " JOIN search_documents d ON d.id = ids.id::bigint"
    " JOIN technique_pages p ON p.id = d.page_id"
    " JOIN creators c ON c.id = p.creator_id"
    " LEFT JOIN sections s ON s.page_id = d.page_id AND s.position = d.section_position,"
    " excluded x"
    " WHERE ($2 = 0 OR d.creator_id = $2) AND (x.q IS NULL OR NOT d.tsv @@ x.q)"
    " ORDER BY ids.ord";

const char* const kFindCreatorSql =
    "SELECT id FROM creators"
    " WHERE lower(slug) = lower($1) OR lower(unaccent(name)) = lower(unaccent($1))"
    "  OR slug = trim(both '-' from regexp_replace(lower(unaccent($1)), '[^a-z0-9]+', '-', 'g'))"
    " ORDER BY id LIMIT 1";

long long find_creator(pqxx::transaction_base& tx, const std::string& creator) {
  const auto r = tx.exec_prepared("find_creator", creator);
  return r.empty() ? 0 : r[0][0].as<long long>();
}

std::string as_title(const std::string& query) {
  std::string title = query;
  while (!title.empty() && std::string(" \t?.!").find(title.back()) != std::string::npos) {
    title.pop_back();
  }
  return title;
}

// How much a follow-up's own words, searched alone, count against the
// search in its conversation's context (fuse_rankings). Measured on the
// three two-turn sets (docs/PERFORMANCE.md, "A follow-up's own words"):
// 0.4-0.6 lift unmarked subject changes and keep elliptical follow-ups;
// 0.75 and more lose elliptical ones.
constexpr double kOwnWordsWeight = 0.5;

// How many of a follow-up's own terms one page must hold together for the
// follow-up to stand as a question of its own (run_cascade). Measured on
// four two-turn sets (docs/PERFORMANCE.md, "A follow-up that changes the
// subject"): at 2, elliptical follow-ups of two everyday words lost their
// context.
constexpr int kNewSubjectTerms = 3;

// Whether the full-text ranking's first item is there by the exact-title
// rule (SPEC §2), which fusion keeps.
bool is_exact_title(const SearchItem& item, const std::string& query) {
  return item.section_anchor.empty() && item.section_heading.empty() &&
         common::ascii_iequals(item.title, as_title(query));
}

struct WordListsRead {
  std::unordered_map<std::string, WordLists> by_word;
  long long generation = -1;
  bool from_cache = false;  // some lists came from memory, not this read
};

// The words' champion lists, from `cache` where it has them (and keeping
// there what had to be read), else from the database.
WordListsRead read_word_lists(pqxx::transaction_base& tx, const std::vector<std::string>& words,
                              ListCache* cache) {
  WordListsRead out;
  std::vector<std::string> missing = words;
  if (cache) {
    auto found = cache->lookup(words);
    out.by_word = std::move(found.hits);
    out.generation = found.generation;
    out.from_cache = !out.by_word.empty();
    missing = std::move(found.missing);
  }
  if (missing.empty()) return out;
  std::unordered_map<std::string, WordLists> fetched;
  std::unordered_map<std::string, std::shared_ptr<const ChampionList>> by_lexeme;
  long long generation = -1;
  const nlohmann::json asked = missing;
  for (const auto& row : tx.exec_prepared("word_lists", asked.dump())) {
    auto& lists = fetched[row[0].as<std::string>()];
    generation = row[4].as<long long>();
    if (row[1].is_null()) continue;  // a stop word: no lexeme
    auto& list = by_lexeme[row[1].as<std::string>()];
    if (!list) {
      // A lexeme no document holds is kept as an empty list: a phrase
      // with it can match nothing (choose_term_candidates).
      list = std::make_shared<const ChampionList>(
          row[2].is_null() ? ChampionList{row[1].as<std::string>(), {}, {}}
                           : ChampionList{row[1].as<std::string>(),
                                          parse_id_array({row[2].c_str(), row[2].size()}),
                                          parse_real_array({row[3].c_str(), row[3].size()})});
    }
    lists.push_back(list);
  }
  if (out.from_cache && generation != out.generation) {
    // What memory held is of another generation: all of it read afresh.
    auto fresh = read_word_lists(tx, words, nullptr);
    if (cache) cache->store(fresh.generation, fresh.by_word);
    return fresh;
  }
  if (cache) cache->store(generation, fetched);
  out.generation = generation;
  for (auto& [word, lists] : fetched) out.by_word.insert_or_assign(word, std::move(lists));
  return out;
}

// Each term's ways of being written, as their lexemes' lists (which live
// in `by_word`'s entries).
std::vector<TermLists> terms_of(const std::vector<std::vector<std::string>>& groups,
                                const std::unordered_map<std::string, WordLists>& by_word) {
  std::vector<TermLists> terms(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    for (const auto& way : groups[i]) {
      auto& lists = terms[i].ways.emplace_back();
      if (const auto it = by_word.find(way); it != by_word.end()) {
        for (const auto& l : it->second) lists.push_back(l.get());
      }
    }
  }
  return terms;
}

// How many terms a question is searched by: each is tested against every
// candidate, and 2,000 characters of words the corpus holds made ~200 (60-85
// ms a search). The longest question of the evaluation's sets has 31.
constexpr std::size_t kMostTerms = 40;

// How many of a question's words are mended, in its order: a typing slip
// or two is what mending is for, and each word costs hundreds of
// neighbours to stem and look up (a 2,000-character question of words no
// page holds took 270 ms).
constexpr std::size_t kMostMended = 8;

// A word of the question that no document holds, as typed or as the
// thesaurus adds to it, is likely misspelt ("masetring"): the nearest word
// the corpus holds joins its ways (spelling.hpp). Its neighbours are looked
// up in the lexicon kept in memory, else read with one statement (only for
// a question with such a word): a search ranks the same either way.
void add_spellings(pqxx::transaction_base& tx, std::vector<std::vector<std::string>>& groups,
                   std::vector<std::string>& words, WordListsRead& read, ListCache* cache) {
  const auto held = [&](const std::string& way) {
    const auto it = read.by_word.find(way);
    return it == read.by_word.end() ||
           std::any_of(it->second.begin(), it->second.end(),
                       [](const auto& list) { return !list->doc_ids.empty(); });
  };
  // A question none of whose words the corpus holds ("snre") would go on
  // to the trigram tier, 0.5-1.5 s at 100,000 pages and no choosier: its
  // short words get the wider slips too.
  const bool none_held = std::none_of(groups.begin(), groups.end(), [&](const auto& g) {
    return std::any_of(g.begin(), g.end(), held);
  });
  // With the lexicon in memory a word's wider slips (hundreds of words to
  // stem) are made only when no gentle one is held; without it, both go in
  // the one statement.
  const auto lexicon = cache ? cache->lexicon() : nullptr;
  const bool in_memory = lexicon && lexicon->generation == read.generation;
  std::vector<std::pair<std::size_t, SpellingNeighbours>> misspelt;
  for (std::size_t i = 0; i < groups.size() && misspelt.size() < kMostMended; ++i) {
    const auto& g = groups[i];
    if (g.front().find(' ') != std::string::npos || std::any_of(g.begin(), g.end(), held)) {
      continue;
    }
    if (auto near = spelling_neighbours(g.front(), none_held, !in_memory)) {
      misspelt.emplace_back(i, std::move(*near));
    }
  }
  if (misspelt.empty()) return;
  std::unordered_map<std::string, std::shared_ptr<const ChampionList>> read_now;
  if (!in_memory) {
    nlohmann::json asked = nlohmann::json::array();
    for (const auto& [i, near] : misspelt) {
      for (const auto& lexeme : near.gentle) asked.push_back(lexeme);
      for (const auto& lexeme : near.wider) asked.push_back(lexeme);
    }
    for (const auto& row : tx.exec_prepared("spelling_lists", asked.dump())) {
      const auto lexeme = row[0].as<std::string>();
      read_now.emplace(lexeme, std::make_shared<const ChampionList>(ChampionList{
                                   lexeme, parse_id_array({row[1].c_str(), row[1].size()}),
                                   parse_real_array({row[2].c_str(), row[2].size()})}));
    }
  }
  const auto& lists = in_memory ? lexicon->lists : read_now;
  const auto choose = [&](const std::vector<std::string>& tier) {
    std::vector<const ChampionList*> found;
    for (const auto& lexeme : tier) {
      if (const auto it = lists.find(lexeme); it != lists.end()) found.push_back(it->second.get());
    }
    return choose_spelling(found);
  };
  for (auto& [i, near] : misspelt) {
    // A gentle slip's mending first; a wider one's only when none is held.
    auto spelling = choose(near.gentle);
    if (!spelling && in_memory) {
      near = *spelling_neighbours(groups[i].front(), none_held, true);
    }
    if (!spelling) spelling = choose(near.wider);
    if (!spelling || read.by_word.count(spelling->word)) continue;
    read.by_word.emplace(spelling->word, WordLists{lists.at(spelling->list->lexeme)});
    groups[i].push_back(spelling->word);
    words.push_back(spelling->word);
  }
}

// The full-text statement's ranking made in the process, from the
// documents and lexicon held in memory (memory_ranking.hpp), when both are
// of the lists' generation and the question is one it reads as Postgres
// does. Lists taken from memory are checked against the database's
// generation with a statement of one row (the ranking statement's own check
// otherwise), so a search after an import still sees it. nullopt: the
// statement ranks.
std::optional<Ranking> rank_from_memory(pqxx::transaction_base& tx, const SearchRequest& req,
                                        const ParsedQuery& parsed,
                                        const std::vector<std::vector<std::string>>& groups,
                                        const std::string& web, const std::string& title,
                                        long long creator_id, const WordListsRead& read,
                                        ListCache* cache) {
  if (!cache) return std::nullopt;
  const auto documents = cache->documents();
  const auto lexicon = cache->lexicon();
  // The lexicon's reading is what checked that the process stems as the
  // database does.
  if (!documents || !lexicon || documents->generation != read.generation ||
      lexicon->generation != read.generation) {
    return std::nullopt;
  }
  FullTextAsk ask{
      web,
      groups,
      parsed.excluded,
      creator_id,
      title,
      req.limit,
      choose_term_candidates(terms_of(groups, read.by_word), req.limit, !parsed.excluded.empty())};
  auto ranked = rank_in_memory(*documents, ask);
  if (!ranked) return std::nullopt;
  if (read.from_cache && tx.exec_prepared1("generation")[0].as<long long>() != read.generation) {
    return std::nullopt;  // an import since: the statement reads afresh
  }
  cache->count_memory_ranking();
  return Ranking{std::move(ranked->items), std::move(ranked->matched)};
}

Ranking full_text(pqxx::transaction_base& tx, const SearchRequest& req, const ParsedQuery& parsed,
                  long long creator_id, ListCache* cache) {
  if (parsed.terms.empty()) return {};
  const std::string title = as_title(req.query);
  auto groups = Thesaurus::builtin().expand(parsed.terms, 5);
  // A lone stop word matches nothing (the index has none): not sent. Nor a
  // word that only says how people ask ("sound", "make") — unless it is
  // all the question has ("sound"): then it is what they ask about, and
  // dropping it sent a one-word query on to the trigram tier (300 ms on
  // 100,000 pages).
  const auto lone = [](const std::vector<std::string>& g, auto&& test) {
    return g.size() == 1 && test(normalise_word(g.front()));
  };
  std::erase_if(groups, [&](const auto& g) { return lone(g, is_stop_word); });
  const bool all_noise = std::all_of(groups.begin(), groups.end(),
                                     [&](const auto& g) { return lone(g, is_question_noise); });
  if (!all_noise) {
    std::erase_if(groups, [&](const auto& g) { return lone(g, is_question_noise); });
  }
  if (groups.size() > kMostTerms) {
    // Pasted text rather than a question: its first distinct terms.
    std::vector<std::vector<std::string>> kept;
    for (auto& g : groups) {
      if (kept.size() == kMostTerms) break;
      if (std::find(kept.begin(), kept.end(), g) == kept.end()) kept.push_back(std::move(g));
    }
    groups = std::move(kept);
  }
  const nlohmann::json excluded = parsed.excluded;
  // websearch_to_tsquery would read "-14 LUFS" as "not 14": a minus before
  // a number is no exclusion here (parse_query agrees).
  std::string web = req.query;
  for (std::size_t i = 0; i + 1 < web.size(); ++i) {
    if (web[i] == '-' && (i == 0 || web[i - 1] == ' ') &&
        std::isdigit(static_cast<unsigned char>(web[i + 1]))) {
      web[i] = ' ';
    }
  }
  std::vector<std::string> words;
  for (const auto& g : groups) words.insert(words.end(), g.begin(), g.end());
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());

  WordListsRead read = read_word_lists(tx, words, cache);
  add_spellings(tx, groups, words, read, cache);
  const std::string terms_json = nlohmann::json(groups).dump();
  const auto rank = [&](const WordListsRead& r) {
    const nlohmann::json candidates =
        choose_term_candidates(terms_of(groups, r.by_word), req.limit, !parsed.excluded.empty());
    return tx.exec_prepared("full_text", web, terms_json, excluded.dump(), creator_id, title,
                            req.limit, candidates.dump());
  };
  if (auto mine = rank_from_memory(tx, req, parsed, groups, web, title, creator_id, read, cache)) {
    return std::move(*mine);
  }
  pqxx::result rows = rank(read);
  if (read.from_cache) {
    // Lists from memory stand if the ranking saw the same generation; with
    // no rows to say so, the lists are read again (a rare, empty search).
    std::optional<WordListsRead> fresh;
    if (rows.empty()) fresh = read_word_lists(tx, words, nullptr);
    const long long seen = fresh ? fresh->generation : rows[0][7].as<long long>();
    if (seen != read.generation) {
      if (!fresh) fresh = read_word_lists(tx, words, nullptr);
      if (cache) cache->store(fresh->generation, fresh->by_word);
      rows = rank(*fresh);
    }
  }
  Ranking out{to_items(rows), {}};
  for (const auto& row : rows) out.matched.push_back(row[8].as<int>());
  return out;
}

// How many of a question's words the trigram tier matches: each is a
// trigram index search and a recheck of what it offers (at 100,000 pages up
// to a second for a short word), and a question that reaches this tier with
// more words than this is no misspelling of the corpus's words.
constexpr std::size_t kMostFuzzyWords = 6;

std::vector<SearchItem> fuzzy(pqxx::transaction_base& tx, const SearchRequest& req,
                              const ParsedQuery& parsed) {
  std::vector<std::string> words;
  for (const auto& term : parsed.terms) {
    std::string word;
    for (char c : term + " ") {
      if (std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80)) {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!word.empty()) {
        // The trigram tier is for misspellings: a word rightly spelled that
        // only says how people ask ("get", "the") is none, and alone it sent
        // a question on to 45 ms of trigram matches at 100,000 pages.
        const std::string plain = normalise_word(word);
        if (!is_stop_word(plain) && !is_question_noise(plain)) words.push_back(word);
        word.clear();
      }
    }
  }
  if (words.empty()) return {};
  if (words.size() > kMostFuzzyWords) {
    // The longest distinct ones, in the question's order: a long word says
    // more and carries more trigrams than a short one.
    std::vector<std::string> distinct;
    for (const auto& w : words) {
      if (std::find(distinct.begin(), distinct.end(), w) == distinct.end()) distinct.push_back(w);
    }
    auto by_length = distinct;
    std::stable_sort(by_length.begin(), by_length.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
    if (by_length.size() > kMostFuzzyWords) by_length.resize(kMostFuzzyWords);
    std::erase_if(distinct, [&](const auto& w) {
      return std::find(by_length.begin(), by_length.end(), w) == by_length.end();
    });
    words = std::move(distinct);
  }
  return to_items(tx.exec_prepared("fuzzy", nlohmann::json(words).dump(), req.limit));
}

}  // namespace

void configure_search_session(pqxx::connection_base& conn, int statement_timeout_ms) {
  pqxx::nontransaction tx(conn);
  tx.exec0("SET statement_timeout = " + std::to_string(statement_timeout_ms));
  tx.exec0("SET client_min_messages = warning");
  // The champion query's cost estimate is far above jit_above_cost, and
  // compiling it takes ~250 ms for a query that runs in 2.
  tx.exec0("SET jit = off");
  // Every statement here is prepared and its plan does not depend on the
  // values (index lookups per lexeme and per candidate): planning each
  // execution anew was a third of Postgres's time per search. A mode an
  // operator set on the database or role (ALTER DATABASE ... SET
  // plan_cache_mode) is left as it is.
  tx.exec(
      "SELECT set_config('plan_cache_mode', 'force_generic_plan', false)"
      " WHERE current_setting('plan_cache_mode') = 'auto'");
  tx.exec0("SET pg_trgm.word_similarity_threshold = 0.5");
  // Parsed once per process, here rather than in the first search.
  Thesaurus::builtin();
  // Named statements are planned once per connection, not per search.
  conn.prepare("find_creator", kFindCreatorSql);
  conn.prepare("word_lists", kWordListsSql);
  conn.prepare("spelling_lists", kSpellingListsSql);
  conn.prepare("full_text", full_text_sql());
  conn.prepare("fuzzy", fuzzy_sql());
  conn.prepare("semantic_items", kSemanticItemsSql);
  conn.prepare("generation", "SELECT generation FROM lexeme_lists_generation");
}

void warm_search_session(pqxx::connection_base& conn) {
  try {
    // Common words that reach the full-text statement, and a misspelling
    // that reaches the trigram one.
    run_cascade(conn, {"how do I mix the kick and bass", std::nullopt, 10});
    run_cascade(conn, {"qxzvw", std::nullopt, 10});
  } catch (const std::exception& e) {
    // Not a failed connect: a connection the warm-up found broken is found
    // again by the search that follows, which retries on a fresh one.
    spdlog::debug("pg_warm_up_skipped error=\"{}\"", e.what());
  }
}

std::function<void(pqxx::connection_base&)> search_session_setup(int statement_timeout_ms) {
  return [statement_timeout_ms](pqxx::connection_base& conn) {
    configure_search_session(conn, statement_timeout_ms);
    warm_search_session(conn);
  };
}

bool own_words_searched_apart(const SearchRequest& request) {
  // With a creator, the own words are ranked within the creator's pages
  // only if the contextual search found some there: that waits for it.
  return !request.context.empty() && (!request.creator || request.creator->empty()) &&
         contextual_query(request.query, request.context) != request.query;
}

ContextualFound contextual_cascade(pqxx::connection_base& conn, const SearchRequest& asked,
                                   const std::vector<long long>& semantic_doc_ids,
                                   ListCache* cache) {
  // Read-only single statements: no BEGIN/COMMIT round trips.
  pqxx::nontransaction tx(conn);
  SearchRequest req = asked;
  req.query = contextual_query(asked.query, asked.context);
  const ParsedQuery parsed = parse_query(req.query);
  ContextualFound found;
  SearchResult& result = found.result;
  result.searched_query = req.query;

  long long& creator_id = found.creator_id;
  if (req.creator && !req.creator->empty()) {
    creator_id = find_creator(tx, *req.creator);
    if (creator_id != 0) {
      result.items = full_text(tx, req, parsed, creator_id, cache).items;
      result.cascade_tier = "creator";
    }
  }
  if (result.items.empty()) {
    creator_id = 0;
    result.items = full_text(tx, req, parsed, 0, cache).items;
    result.cascade_tier = "global";
  }
  if (result.items.empty()) {
    result.items = fuzzy(tx, req, parsed);
    result.cascade_tier = result.items.empty() ? "none" : "fuzzy";
  }
  if (!semantic_doc_ids.empty()) {
    found.semantic_asked = true;
    const nlohmann::json ids = semantic_doc_ids;
    const nlohmann::json excluded = parsed.excluded;
    found.semantic =
        to_items(tx.exec_prepared("semantic_items", ids.dump(), creator_id, excluded.dump()));
  }
  return found;
}

Ranking own_words_ranking(pqxx::connection_base& conn, const SearchRequest& asked,
                          long long creator_id, ListCache* cache) {
  pqxx::nontransaction tx(conn);
  SearchRequest alone = asked;
  alone.context.clear();
  return full_text(tx, alone, parse_query(alone.query), creator_id, cache);
}

SearchResult finish_cascade(ContextualFound found, const SearchRequest& asked, const Ranking* own,
                            double semantic_weight) {
  SearchResult result = std::move(found.result);
  const std::string searched = result.searched_query;
  // `own` is given only for a follow-up searched in its context.
  if (own && !result.items.empty()) {
    // A follow-up searched in its conversation's context finds what the
    // conversation is about ("and for vocals?"); its own words searched
    // alone, fused in behind at kOwnWordsWeight, let one that quietly
    // changes the subject find the new one.
    const auto& own_items = own->items;
    // One that changes the subject without saying so ("how should I name
    // my stems", after a question on reverb) shows it in what its own words
    // find: a page (or section) holding kNewSubjectTerms of them together, while the page
    // the conversation was on is nowhere among their results, and nothing
    // in it points back ("it", "and for ...?"). Its own words lead then,
    // and what the context found follows at the same weight.
    const bool new_subject =
        !own_items.empty() && own->matched.front() >= kNewSubjectTerms &&
        !refers_back(asked.query) &&
        std::none_of(own_items.begin(), own_items.end(),
                     [&](const auto& item) { return item.slug == result.items.front().slug; });
    const auto limit = static_cast<std::size_t>(asked.limit);
    if (new_subject) {
      result.items = fuse_rankings(own_items, result.items, limit, false, kOwnWordsWeight);
      result.searched_query = asked.query;
    } else {
      result.items = fuse_rankings(result.items, own_items, limit, false, kOwnWordsWeight);
    }
  }
  if (found.semantic_asked) {
    const bool exact = result.cascade_tier != "fuzzy" && !result.items.empty() &&
                       is_exact_title(result.items.front(), searched);
    result.items = fuse_rankings(result.items, found.semantic,
                                 static_cast<std::size_t>(asked.limit), exact, semantic_weight);
    // Nothing shared the question's words, nor looked like them: what its
    // meaning found is all there is.
    if (result.cascade_tier == "none" && !result.items.empty()) result.cascade_tier = "semantic";
  }
  return result;
}

SearchResult run_cascade(pqxx::connection_base& conn, const SearchRequest& asked,
                         const std::vector<long long>& semantic_doc_ids, ListCache* cache,
                         double semantic_weight) {
  ContextualFound found = contextual_cascade(conn, asked, semantic_doc_ids, cache);
  std::optional<Ranking> own;
  if (found.result.searched_query != asked.query && !found.result.items.empty()) {
    own = own_words_ranking(conn, asked, found.creator_id, cache);
  }
  return finish_cascade(std::move(found), asked, own ? &*own : nullptr, semantic_weight);
}

}  // namespace chrysopedia::search

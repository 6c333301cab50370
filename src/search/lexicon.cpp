#include "search/lexicon.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/stemmer.hpp"
#include "search/stop_words.hpp"
#include "search/thesaurus.hpp"

namespace chrysopedia::search {

namespace {

// Words whose endings exercise the stemmer's rules, beside the thesaurus's
// own (which are the words questions lean on most).
constexpr std::string_view kProbeWords[] = {
    "running",    "generously",  "compression", "compressor",  "sidechaining", "skies",
    "dying",      "happily",     "relational",  "conditional", "hesitancy",    "digitizer",
    "radically",  "differently", "formality",   "sensitivity", "triplicate",   "formalize",
    "electrical", "hopefulness", "allowance",   "adjustable",  "replacement",  "dependent",
    "adoption",   "feudalism",   "activate",    "effective",   "generate",     "generic",
    "news",       "idly",        "gently",      "early",       "inning",       "proceed",
    "succeed",    "arsenal",     "atlas",       "cosmos",      "bias",         "vocals",
    "mastering",  "eqs",         "reverbs",     "saturated",   "automation",   "quantizing"};

// Each word's lexemes in byte order (as english_lexemes gives them).
const char* const kStemsSql =
    "SELECT w, coalesce(string_agg(l, ' ' ORDER BY l COLLATE \"C\"), '')"
    " FROM (SELECT DISTINCT jsonb_array_elements_text($1::jsonb)) d(w)"
    " LEFT JOIN LATERAL unnest(tsvector_to_array(to_tsvector('english', w))) l ON true"
    " GROUP BY w";

// What a list takes in memory, roughly (the map's node and the vectors).
std::size_t bytes_of(std::size_t lexeme_bytes, std::size_t entries) {
  return 160 + lexeme_bytes + entries * (sizeof(long long) + sizeof(float));
}

std::string stems_disagree(pqxx::transaction_base& tx) {
  nlohmann::json words = nlohmann::json::array();
  for (auto& phrase : Thesaurus::builtin().phrases()) {
    if (english_lexemes(phrase)) words.push_back(std::move(phrase));
  }
  for (const auto word : kEnglishStopWords) words.push_back(word);
  for (const auto word : kProbeWords) words.push_back(word);
  for (const auto& row : tx.exec_params(kStemsSql, words.dump())) {
    const auto word = row[0].as<std::string>();
    const auto theirs = row[1].as<std::string>();
    std::string ours;
    for (const auto& lexeme : english_lexemes(word).value_or(std::vector<std::string>{})) {
      ours += (ours.empty() ? "" : " ") + lexeme;
    }
    if (ours != theirs) {
      return "stemmer_disagrees word=\"" + word + "\" ours=\"" + ours + "\" postgres=\"" + theirs +
             "\"";
    }
  }
  return {};
}

}  // namespace

LexiconRead read_lexicon(pqxx::connection_base& conn, std::size_t max_bytes) {
  LexiconRead out;
  // One snapshot: the lists and their generation agree.
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  const auto size = tx.exec1(
      "SELECT (SELECT generation FROM lexeme_lists_generation), count(*),"
      " coalesce(sum(octet_length(lexeme)), 0), coalesce(sum(cardinality(doc_ids)), 0)"
      " FROM lexeme_lists");
  out.generation = size[0].as<long long>();
  // The sum of bytes_of over the rows.
  out.bytes = size[1].as<std::size_t>() * bytes_of(0, 0) + size[2].as<std::size_t>() +
              size[3].as<std::size_t>() * (bytes_of(0, 1) - bytes_of(0, 0));
  if (out.bytes > max_bytes) {
    out.why_not = "too_big";
    return out;
  }
  if (auto why = stems_disagree(tx); !why.empty()) {
    out.why_not = std::move(why);
    return out;
  }
  auto lexicon = std::make_shared<Lexicon>();
  lexicon->generation = out.generation;
  const auto rows = tx.exec("SELECT lexeme, doc_ids, scores FROM lexeme_lists");
  lexicon->lists.reserve(rows.size());
  for (const auto& row : rows) {
    auto lexeme = row[0].as<std::string>();
    auto list = std::make_shared<const ChampionList>(
        ChampionList{lexeme, parse_id_array({row[1].c_str(), row[1].size()}),
                     parse_real_array({row[2].c_str(), row[2].size()})});
    lexicon->bytes += bytes_of(lexeme.size(), list->doc_ids.size());
    lexicon->lists.emplace(std::move(lexeme), std::move(list));
  }
  out.bytes = lexicon->bytes;
  out.lexicon = std::move(lexicon);
  return out;
}

}  // namespace chrysopedia::search

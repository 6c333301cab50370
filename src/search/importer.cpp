#include "search/importer.hpp"

#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/champions.hpp"
#include "search/page_record.hpp"

namespace chrysopedia::search {

namespace {

constexpr std::size_t kMaxLine = 8 * 1024 * 1024;
constexpr std::size_t kBatch = 500;
// Past this many pages, rebuilding every champion list once is cheaper than
// merging batch by batch.
constexpr std::size_t kRebuildAbove = 2000;

// One batch, as JSON documents the SQL below unpacks with jsonb_to_recordset:
// the whole batch travels as a few parameters, never spliced into SQL.
struct Batch {
  nlohmann::json pages = nlohmann::json::array();
  nlohmann::json sections = nlohmann::json::array();
  nlohmann::json slugs = nlohmann::json::array();
  bool full_rebuild = false;  // champion lists are rebuilt once at the end
};

void write_batch(pqxx::work& tx, const Batch& b) {
  const std::string pages = b.pages.dump();
  const std::string slugs = b.slugs.dump();
  tx.exec_params0(
      "INSERT INTO technique_pages AS t"
      " (slug, title, creator_id, topic_category, topic_tags, summary, updated_at)"
      " SELECT x.slug, x.title, c.id, x.topic_category, x.topic_tags, x.summary, now()"
      " FROM jsonb_to_recordset($1::jsonb) AS x(slug text, title text, creator_slug text,"
      "  topic_category text, topic_tags text[], summary text)"
      " JOIN creators c ON c.slug = x.creator_slug"
      " ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, creator_id = EXCLUDED.creator_id,"
      "  topic_category = EXCLUDED.topic_category, topic_tags = EXCLUDED.topic_tags,"
      "  summary = EXCLUDED.summary, updated_at = now()",
      pages);
  const std::string batch_pages =
      "SELECT id FROM technique_pages WHERE slug IN (SELECT jsonb_array_elements_text($1::jsonb))";
  if (!b.full_rebuild) remove_champions(tx, slugs);
  tx.exec_params0("DELETE FROM search_documents WHERE page_id IN (" + batch_pages + ")", slugs);
  tx.exec_params0("DELETE FROM sections WHERE page_id IN (" + batch_pages + ")", slugs);
  tx.exec_params0(
      "INSERT INTO sections (page_id, position, anchor, heading, content)"
      " SELECT p.id, s.position, s.anchor, s.heading, s.content"
      " FROM jsonb_to_recordset($1::jsonb) AS s(slug text, position int, anchor text,"
      "  heading text, content text)"
      " JOIN technique_pages p ON p.slug = s.slug",
      b.sections.dump());
  // The fuzzy tier's postings (migration 8) go first: the batch's pages'
  // are written anew below, from the same rows as their documents.
  tx.exec_params0("DELETE FROM fuzzy_postings WHERE page_id IN (" + batch_pages + ")", slugs);
  // Weights: title A, section heading B, summary and tags C, body D (the
  // page title rides along with each section, at D, for context). The
  // documents' fuzzy text gives their words' postings, and those the
  // vocabulary, in the same statement.
  tx.exec_params0(
      "WITH docs AS ("
      " INSERT INTO search_documents (page_id, section_position, creator_id, tsv, fuzzy_text)"
      " SELECT p.id, NULL, p.creator_id,"
      "  setweight(to_tsvector('english', p.title), 'A') ||"
      "  setweight(to_tsvector('english', p.summary || ' ' || array_to_string(p.topic_tags, ' ')),"
      "   'C'),"
      "  p.title || ' ' || array_to_string(p.topic_tags, ' ')"
      " FROM technique_pages p WHERE p.id IN (" +
          batch_pages +
          ")"
          " UNION ALL"
          " SELECT p.id, s.position, p.creator_id,"
          "  setweight(to_tsvector('english', s.heading), 'B') ||"
          "  setweight(to_tsvector('english', s.content || ' ' || p.title), 'D'),"
          "  s.heading"
          " FROM technique_pages p JOIN sections s ON s.page_id = p.id"
          " WHERE p.id IN (" +
          batch_pages +
          ")"
          " RETURNING page_id, section_position, fuzzy_text),"
          " posted AS ("
          " INSERT INTO fuzzy_postings SELECT DISTINCT unnest(fuzzy_words_of(fuzzy_text)), page_id,"
          "  coalesce(section_position, -1) FROM docs RETURNING word)"
          " INSERT INTO fuzzy_words SELECT DISTINCT word FROM posted ON CONFLICT DO NOTHING",
      slugs);
  if (!b.full_rebuild) add_champions(tx, slugs);
}

}  // namespace

ImportReport import_pages(pqxx::connection_base& conn, std::istream& in) {
  ImportReport report;
  // Validate everything before writing anything. The last line for a slug
  // wins, as a re-import would.
  std::vector<PageRecord> records;
  std::unordered_map<std::string, std::size_t> by_slug;
  std::map<std::string, std::string> creators;  // slug -> name (last wins)
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.size() > kMaxLine) {
      report.bad_lines.push_back({number, "line is longer than 8 MiB"});
      continue;
    }
    std::string error;
    auto record = parse_page_record(line, error);
    if (!record) {
      report.bad_lines.push_back({number, error});
      continue;
    }
    creators[record->creator_slug] = record->creator_name;
    if (auto it = by_slug.find(record->slug); it != by_slug.end()) {
      records[it->second] = std::move(*record);
    } else {
      by_slug.emplace(record->slug, records.size());
      records.push_back(std::move(*record));
    }
  }
  if (!report.bad_lines.empty()) return report;

  pqxx::work tx(conn);
  nlohmann::json creator_rows = nlohmann::json::array();
  for (const auto& [slug, name] : creators)
    creator_rows.push_back({{"slug", slug}, {"name", name}});
  tx.exec_params0(
      "INSERT INTO creators (slug, name)"
      " SELECT x.slug, x.name FROM jsonb_to_recordset($1::jsonb) AS x(slug text, name text)"
      " ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name",
      creator_rows.dump());

  const bool full_rebuild = records.size() > kRebuildAbove;
  Batch batch;
  batch.full_rebuild = full_rebuild;
  auto flush = [&] {
    if (batch.slugs.empty()) return;
    write_batch(tx, batch);
    batch = Batch{};
    batch.full_rebuild = full_rebuild;
  };
  for (const auto& r : records) {
    batch.pages.push_back({{"slug", r.slug},
                           {"title", r.title},
                           {"creator_slug", r.creator_slug},
                           {"topic_category", r.topic_category},
                           {"topic_tags", r.topic_tags},
                           {"summary", r.summary}});
    batch.slugs.push_back(r.slug);
    int position = 0;
    for (const auto& s : r.sections) {
      batch.sections.push_back({{"slug", r.slug},
                                {"position", position++},
                                {"anchor", s.anchor},
                                {"heading", s.heading},
                                {"content", s.content}});
    }
    report.sections += r.sections.size();
    if (batch.slugs.size() >= kBatch) flush();
  }
  flush();
  if (full_rebuild) {
    rebuild_champions(tx);
  } else {
    tx.exec0("ANALYZE lexeme_champions");
    tx.exec0("ANALYZE lexeme_lists");
    tx.exec0("ANALYZE search_documents");
  }
  // Flushed before the VACUUM below, even where commits are asynchronous
  // (synchronous_commit=off): VACUUM cannot mark pages of a commit that is
  // not yet on disk as visible to all.
  tx.exec0("SET LOCAL synchronous_commit = on");
  tx.commit();
  // Freshly written rows are not yet known to be visible to everyone, so
  // every index-only lookup of the champion lists visited the heap too
  // until autovacuum came by: searches right after an import took three
  // times as long (3.5 ms p50 instead of 1.1 on 1,000 flat pages). VACUUM
  // sets the visibility map; it cannot run inside the import's
  // transaction, and the import has committed.
  {
    pqxx::nontransaction vacuum(conn);
    vacuum.exec0(
        "VACUUM (ANALYZE) lexeme_champions, lexeme_lists, search_documents, technique_pages,"
        " sections, fuzzy_postings, fuzzy_words");
  }
  report.pages = records.size();
  report.creators = creators.size();
  return report;
}

}  // namespace chrysopedia::search

#include "search/document_store.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "search/stemmer.hpp"
#include "search/thesaurus.hpp"

namespace chrysopedia::search {

namespace {

std::size_t bytes_of(const TsVector& v) {
  std::size_t n = sizeof(TsVector) + v.entries.capacity() * sizeof(TsVector::Entry);
  for (const auto& e : v.entries) {
    n += (e.lexeme.size() > 15 ? e.lexeme.capacity() : 0) +
         e.positions.capacity() * sizeof(std::uint16_t);
  }
  return n;
}

}  // namespace

DocumentStoreRead read_document_store(pqxx::connection_base& conn, std::size_t max_bytes) {
  DocumentStoreRead out;
  // One snapshot: the documents and their generation agree.
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  const auto size = tx.exec1(
      "SELECT (SELECT generation FROM lexeme_lists_generation),"
      " pg_table_size('search_documents') + pg_table_size('sections') +"
      " pg_table_size('technique_pages')");
  out.generation = size[0].as<long long>();
  out.bytes = size[1].as<std::size_t>();
  if (out.bytes > max_bytes) {
    out.why_not = "too_big";
    return out;
  }
  auto store = std::make_shared<DocumentStore>();
  store->generation = out.generation;
  for (const auto& row :
       tx.exec("SELECT p.id, p.title, lower(p.title), p.slug, c.name, p.topic_category, p.summary,"
               " p.creator_id FROM technique_pages p JOIN creators c ON c.id = p.creator_id")) {
    auto& page = store->pages[row[0].as<long long>()];
    page = {row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
            row[4].as<std::string>(), row[5].as<std::string>(), row[6].as<std::string>(),
            row[7].as<long long>()};
    store->pages_by_title.emplace(page.title_lower, row[0].as<long long>());
    store->bytes += 256 + page.title.size() * 2 + page.slug.size() + page.summary.size() +
                    page.creator_name.size() + page.category.size();
  }
  std::unordered_map<long long, std::unordered_map<int, const DocumentStore::Section*>> sections;
  for (const auto& row :
       tx.exec("SELECT page_id, position, content, anchor, heading FROM sections")) {
    auto s = std::make_unique<DocumentStore::Section>(DocumentStore::Section{
        row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<std::string>()});
    sections[row[0].as<long long>()][row[1].as<int>()] = s.get();
    store->bytes += 128 + s->content.size() + s->anchor.size() + s->heading.size();
    store->sections.push_back(std::move(s));
  }
  for (const auto& row :
       tx.exec("SELECT id, page_id, section_position, creator_id, tsv::text FROM search_documents"
               " ORDER BY id")) {
    DocumentStore::Document d;
    d.id = row[0].as<long long>();
    d.page_id = row[1].as<long long>();
    d.section_position = row[2].is_null() ? -1 : row[2].as<int>();
    d.creator_id = row[3].as<long long>();
    auto tsv = parse_tsvector({row[4].c_str(), row[4].size()});
    const auto page = store->pages.find(d.page_id);
    if (!tsv || page == store->pages.end()) {
      // Not as our import writes them: searches go on asking Postgres.
      out.why_not = "unreadable";
      return out;
    }
    d.tsv = std::move(*tsv);
    d.page = &page->second;
    if (d.section_position >= 0) {
      const auto s = sections[d.page_id].find(d.section_position);
      if (s == sections[d.page_id].end()) {
        out.why_not = "unreadable";
        return out;
      }
      d.section = s->second;
    }
    store->bytes += sizeof(DocumentStore::Document) + bytes_of(d.tsv) + 48;
    store->by_id.emplace(d.id, store->documents.size());
    if (d.section_position < 0) store->page_documents.emplace(d.page_id, store->documents.size());
    store->by_creator[d.creator_id].push_back(store->documents.size());
    store->documents.push_back(std::move(d));
  }
  nlohmann::json unread = nlohmann::json::array();
  for (auto& phrase : Thesaurus::builtin().phrases()) {
    if (!english_lexemes(phrase)) unread.push_back(std::move(phrase));
  }
  for (const auto& row : tx.exec_params("SELECT a, phraseto_tsquery('english', a)::text FROM "
                                        "jsonb_array_elements_text($1::jsonb) a",
                                        unread.dump())) {
    auto q = parse_tsquery({row[1].c_str(), row[1].size()});
    if (!q) {
      out.why_not = "unreadable";
      return out;
    }
    store->bytes += 64 + row[0].size() + row[1].size() * 2;
    store->phrases.emplace(row[0].as<std::string>(), std::move(*q));
  }
  out.bytes = store->bytes;
  if (out.bytes > max_bytes) {
    out.why_not = "too_big";  // in memory, its text parsed
    return out;
  }
  out.store = std::move(store);
  return out;
}

}  // namespace chrysopedia::search

#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "search/ts_query.hpp"
#include "search/ts_vector.hpp"

namespace pqxx {
class connection_base;
}

namespace chrysopedia::search {

/// Every search document of one generation of the corpus, with what its
/// item shows, read whole when it fits in memory: with it (and the
/// lexicon) a question's full-text ranking needs no statement of its own
/// (memory_ranking.hpp). The generation is lexeme_lists_generation's, which
/// every import bumps.
struct DocumentStore {
  struct Page {
    std::string title, title_lower, slug, creator_name, category, summary;
    long long creator_id = 0;
  };
  struct Section {
    std::string content, anchor, heading;
  };
  struct Document {
    long long id = 0;
    long long page_id = 0;
    int section_position = -1;  // -1: the page's own document
    long long creator_id = 0;
    TsVector tsv;
    const Page* page = nullptr;
    const Section* section = nullptr;  // null for the page's own document
  };

  long long generation = -1;
  std::vector<Document> documents;                   // by id
  std::unordered_map<long long, std::size_t> by_id;  // id -> index in documents
  std::unordered_map<long long, Page> pages;         // by page id
  std::vector<std::unique_ptr<Section>> sections;
  std::unordered_map<long long, std::vector<std::size_t>> by_creator;  // documents, by id
  std::unordered_multimap<std::string, long long> pages_by_title;      // lower(title) -> id
  std::unordered_map<long long, std::size_t> page_documents;  // page id -> its own document
  /// phraseto_tsquery('english', ...) of the thesaurus's phrases that the
  /// process cannot read itself ("pro-q", "eq'd", "eq8"), asked of
  /// Postgres once here.
  std::unordered_map<std::string, TsQuery> phrases;
  std::size_t bytes = 0;

  const Document* find(long long id) const {
    const auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : &documents[it->second];
  }
};

struct DocumentStoreRead {
  std::shared_ptr<const DocumentStore> store;  // null: not kept (see why_not)
  long long generation = -1;
  std::size_t bytes = 0;  // what it takes, or (too big) what the tables take on disk
  std::string why_not;    // "too_big", "unreadable" (a document not as our import writes it)
};

/// Reads every search document with its page, section and creator in one
/// snapshot with its generation, if the tables take no more than
/// `max_bytes` on disk and what is read no more than that in memory (its
/// text parsed: three to four times the tables' size).
DocumentStoreRead read_document_store(pqxx::connection_base& conn, std::size_t max_bytes);

}  // namespace chrysopedia::search

#include "search/list_cache.hpp"

#include "search/stemmer.hpp"

namespace chrysopedia::search {

namespace {

// What an entry holds, roughly (a list shared by several words is counted
// for each: the bound errs on the safe side).
std::size_t size_of(const std::string& word, const WordLists& lists) {
  std::size_t bytes = sizeof(std::string) + word.size() + 96;
  for (const auto& l : lists) {
    bytes += sizeof(ChampionList) + l->lexeme.size() + l->doc_ids.size() * sizeof(long long) +
             l->scores.size() * sizeof(float) + 32;
  }
  return bytes;
}

}  // namespace

ListCache::ListCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

ListCache::Lookup ListCache::lookup(const std::vector<std::string>& words) {
  Lookup out;
  std::shared_ptr<const Lexicon> lexicon;
  {
    std::lock_guard lock(mutex_);
    out.generation = generation_;
    lexicon = lexicon_;
    for (const auto& word : words) {
      const auto it = entries_.find(word);
      if (it == entries_.end()) {
        out.missing.push_back(word);
        continue;
      }
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      out.hits.emplace(word, it->second.lists);
    }
  }
  hits_ += out.hits.size();
  if (lexicon) {
    // Stemmed outside the lock; the lexicon is immutable and shared.
    std::erase_if(out.missing, [&](const std::string& word) {
      const auto lexemes = english_lexemes(word);
      if (!lexemes) return false;
      WordLists lists;
      for (const auto& lexeme : *lexemes) {
        if (const auto it = lexicon->lists.find(lexeme); it != lexicon->lists.end()) {
          lists.push_back(it->second);
        } else {
          // In no document: kept empty, as a read keeps it (a phrase
          // with it can match nothing).
          lists.push_back(std::make_shared<const ChampionList>(ChampionList{lexeme, {}, {}}));
        }
      }
      out.hits.emplace(word, std::move(lists));
      ++lexicon_hits_;
      return true;
    });
  }
  misses_ += out.missing.size();
  return out;
}

void ListCache::set_lexicon(std::shared_ptr<const Lexicon> lexicon) {
  std::lock_guard lock(mutex_);
  if (!lexicon || lexicon->generation < generation_) return;
  if (lexicon->generation > generation_) advance_to(lexicon->generation);
  lexicon_ = std::move(lexicon);
}

void ListCache::set_documents(std::shared_ptr<const DocumentStore> documents) {
  std::lock_guard lock(mutex_);
  if (!documents || documents->generation < generation_) return;
  if (documents->generation > generation_) advance_to(documents->generation);
  documents_ = std::move(documents);
}

std::shared_ptr<const DocumentStore> ListCache::documents() const {
  std::lock_guard lock(mutex_);
  return documents_;
}

bool ListCache::lexicon_missing() const {
  std::lock_guard lock(mutex_);
  return !lexicon_;
}

std::shared_ptr<const Lexicon> ListCache::lexicon() const {
  std::lock_guard lock(mutex_);
  return lexicon_;
}

void ListCache::store(long long generation,
                      const std::unordered_map<std::string, WordLists>& words) {
  std::lock_guard lock(mutex_);
  if (generation < generation_) return;
  if (generation > generation_) advance_to(generation);
  for (const auto& [word, lists] : words) {
    const std::size_t bytes = size_of(word, lists);
    if (bytes > max_bytes_) continue;
    if (auto it = entries_.find(word); it != entries_.end()) {
      bytes_ -= it->second.bytes;
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
    lru_.push_front(word);
    entries_.emplace(word, Entry{lists, bytes, lru_.begin()});
    bytes_ += bytes;
  }
  evict_to(max_bytes_);
}

void ListCache::advance_to(long long generation) {
  // Everything held is of an older generation now.
  entries_.clear();
  lru_.clear();
  bytes_ = 0;
  lexicon_.reset();
  documents_.reset();
  generation_ = generation;
}

void ListCache::evict_to(std::size_t max_bytes) {
  while (bytes_ > max_bytes && !lru_.empty()) {
    const auto it = entries_.find(lru_.back());
    bytes_ -= it->second.bytes;
    entries_.erase(it);
    lru_.pop_back();
  }
}

ListCache::Stats ListCache::stats() const {
  std::lock_guard lock(mutex_);
  return {hits_,
          misses_,
          entries_.size(),
          bytes_,
          generation_,
          lexicon_hits_,
          lexicon_ ? lexicon_->lists.size() : 0,
          lexicon_ ? lexicon_->bytes : 0,
          documents_ ? documents_->documents.size() : 0,
          documents_ ? documents_->bytes : 0,
          memory_rankings_};
}

}  // namespace chrysopedia::search

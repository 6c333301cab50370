#include "search/memory_ranking.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_map>

#include "search/stemmer.hpp"
#include "search/ts_match.hpp"
#include "search/ts_rank.hpp"

namespace chrysopedia::search {

namespace {

// As full_text_sql's ts_rank weights (D, C, B, A).
constexpr std::array<float, 4> kWeights{0.05f, 0.3f, 0.6f, 1.0f};

// Past this english_lexemes stems a word's first letters only; Postgres
// stems it whole.
constexpr std::size_t kLongestWord = 64;

bool all_digits(std::string_view word) {
  return !word.empty() &&
         std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A word's lexeme as Postgres's english configuration gives it: ASCII
// letters stemmed (none for a stop word), digits as they are. nullopt:
// a word only Postgres reads for sure.
std::optional<std::optional<std::string>> word_lexeme(std::string_view word) {
  if (word.size() > kLongestWord) return std::nullopt;
  if (all_digits(word)) return std::optional<std::string>(std::string(word));
  const auto lexemes = english_lexemes(word);
  if (!lexemes || lexemes->size() > 1) return std::nullopt;
  if (lexemes->empty()) return std::optional<std::string>();
  return std::optional<std::string>(lexemes->front());
}

// The words Postgres's parser finds in one space-free piece of a question
// made of ASCII letters and digits: closing ?,!;:. are blanks to it, as is
// an apostrophe between letters ("i'm" is "i" and "m"). nullopt for any
// other piece ("lo-fi", "1.5", "3d", "gör"), which only Postgres reads for
// sure.
std::optional<std::vector<std::string_view>> plain_words(std::string_view piece) {
  while (!piece.empty() &&
         std::string_view("?,!;:.").find(piece.back()) != std::string_view::npos) {
    // "140." might be read as a number with its point: not ours to say.
    if (piece.back() == '.' && piece.size() > 1 && piece[piece.size() - 2] >= '0' &&
        piece[piece.size() - 2] <= '9') {
      return std::nullopt;
    }
    piece.remove_suffix(1);
  }
  std::vector<std::string_view> words;
  std::size_t start = 0;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  for (std::size_t i = 0; i < piece.size(); ++i) {
    if (piece[i] != '\'') continue;
    if (i == 0 || i + 1 == piece.size() || !letter(piece[i - 1]) || !letter(piece[i + 1])) {
      return std::nullopt;
    }
    words.push_back(piece.substr(start, i - start));
    start = i + 1;
  }
  if (start < piece.size()) words.push_back(piece.substr(start));
  return words;
}

class QueryBuilder {
 public:
  QueryBuilder(TsQuery& q, const std::unordered_map<std::string, TsQuery>* known = nullptr)
      : q_(q), known_(known) {}

  // Folds `node` into `acc` with `kind` (acc -1: none yet).
  int fold(TsQuery::Kind kind, int acc, int node) {
    if (node < 0) return acc;
    return acc < 0 ? node : q_.add_operator(kind, acc, node);
  }

  // phraseto_tsquery('english', text): its words' lexemes in order, a stop
  // word between two counting in their distance. -1: no lexeme; nullopt:
  // a word english_lexemes cannot stem for sure.
  std::optional<int> phrase(const std::string& text) {
    if (known_) {
      if (const auto it = known_->find(text); it != known_->end()) return graft(it->second);
    }
    int acc = -1;
    int gap = 0;
    std::size_t i = 0;
    while (i < text.size()) {
      if (text[i] == ' ') {
        ++i;
        continue;
      }
      const std::size_t end = std::min(text.find(' ', i), text.size());
      const auto words = plain_words(std::string_view(text.data() + i, end - i));
      i = end;
      if (!words) return std::nullopt;
      for (const auto word : *words) {
        const auto found = word_lexeme(word);
        if (!found) return std::nullopt;
        if (!*found) {
          if (acc >= 0) ++gap;  // a stop word: before the first lexeme, not counted
          continue;
        }
        const int node = q_.add_lexeme(**found);
        acc = acc < 0 ? node : q_.add_operator(TsQuery::Kind::op_phrase, acc, node, gap + 1);
        gap = 0;
      }
    }
    return acc;
  }

 private:
  // Another query's tree, copied in: its root's node here (-1: empty).
  int graft(const TsQuery& other) {
    if (other.root < 0) return -1;
    const int offset = static_cast<int>(q_.nodes.size());
    for (auto n : other.nodes) {
      if (n.left >= 0) n.left += offset;
      if (n.right >= 0) n.right += offset;
      q_.nodes.push_back(std::move(n));
    }
    return other.root + offset;
  }
  TsQuery& q_;
  const std::unordered_map<std::string, TsQuery>* known_;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

// Each piece's lexemes (a phrase of them for several: "i've"), ANDed.
std::optional<TsQuery> websearch_query(const std::string& text) {
  TsQuery q;
  QueryBuilder b(q);
  int acc = -1;
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_space(text[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !is_space(text[end])) ++end;
    const std::string token(text.data() + i, end - i);
    i = end;
    std::string_view bare(token);
    while (!bare.empty() &&
           std::string_view("?,!;:.").find(bare.back()) != std::string_view::npos) {
      bare.remove_suffix(1);
    }
    if (bare.size() == 2 && (bare[0] | 0x20) == 'o' && (bare[1] | 0x20) == 'r') {
      return std::nullopt;  // websearch's OR
    }
    const auto node = b.phrase(token);
    if (!node) return std::nullopt;
    acc = b.fold(TsQuery::Kind::op_and, acc, *node);
  }
  q.root = acc;
  return q;
}

std::optional<TsQuery> phrase_query(const std::string& text,
                                    const std::unordered_map<std::string, TsQuery>* known) {
  TsQuery q;
  const auto root = QueryBuilder(q, known).phrase(text);
  if (!root) return std::nullopt;
  q.root = *root;
  return q;
}

namespace {

std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  }
  return s;
}

bool is_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return !(c & 0x80); });
}

struct Ranked {
  const DocumentStore::Document* doc;
  bool exact;
  bool web;
  int matched;
  float rank;
};

}  // namespace

std::optional<MemoryRanking> rank_in_memory(const DocumentStore& store, const FullTextAsk& ask) {
  // The queries, built as the statement builds them.
  TsQuery any;
  QueryBuilder b(any, &store.phrases);
  std::vector<TsQuery> terms;
  int any_root = -1;
  for (const auto& ways : ask.terms) {
    TsQuery term;
    QueryBuilder tb(term, &store.phrases);
    int term_root = -1;
    for (const auto& way : ways) {
      const auto in_term = tb.phrase(way);
      const auto in_any = b.phrase(way);
      if (!in_term || !in_any) return std::nullopt;
      term_root = tb.fold(TsQuery::Kind::op_or, term_root, *in_term);
      any_root = b.fold(TsQuery::Kind::op_or, any_root, *in_any);
    }
    if (term_root < 0) continue;  // no lexeme: no term
    term.root = term_root;
    terms.push_back(std::move(term));
  }
  // With no term at all the statement ranks on NULLs: Postgres's to do.
  if (terms.empty()) return std::nullopt;
  any.root = any_root;
  std::optional<TsQuery> excluded;
  {
    TsQuery x;
    QueryBuilder xb(x, &store.phrases);
    int root = -1;
    for (const auto& t : ask.excluded) {
      const auto node = xb.phrase(t);
      if (!node) return std::nullopt;
      root = xb.fold(TsQuery::Kind::op_or, root, *node);
    }
    if (root >= 0) {
      x.root = root;
      excluded = std::move(x);
    }
  }
  const auto web = websearch_query(ask.web);
  if (!web || !is_ascii(ask.title)) return std::nullopt;

  // The page whose title is the question (the lowest id), if any.
  long long exact = 0;
  const auto [first, last] = store.pages_by_title.equal_range(ascii_lower(ask.title));
  for (auto it = first; it != last; ++it) {
    const auto& page = store.pages.at(it->second);
    if (ask.creator_id != 0 && page.creator_id != ask.creator_id) continue;
    if (exact == 0 || it->second < exact) exact = it->second;
  }

  // Candidates: the champion lists', a creator's first 200 documents that
  // hold a term, the exact title's page.
  std::vector<long long> ids = ask.candidates;
  if (ask.creator_id != 0) {
    if (const auto it = store.by_creator.find(ask.creator_id); it != store.by_creator.end()) {
      const auto n = std::min<std::size_t>(it->second.size(), 200);
      for (std::size_t i = 0; i < n; ++i) {
        const auto& d = store.documents[it->second[i]];
        if (ts_matches(d.tsv, any)) ids.push_back(d.id);
      }
    }
  }
  if (exact != 0) {
    if (const auto it = store.page_documents.find(exact); it != store.page_documents.end()) {
      ids.push_back(store.documents[it->second].id);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

  std::vector<Ranked> ranked;
  for (const long long id : ids) {
    const auto* d = store.find(id);
    if (!d) continue;
    const bool is_exact = d->section_position < 0 && d->page_id == exact;
    if (!ts_matches(d->tsv, any) && !is_exact) continue;
    if (excluded && ts_matches(d->tsv, *excluded)) continue;
    if (ask.creator_id != 0 && d->creator_id != ask.creator_id) continue;
    int matched = 0;
    for (const auto& t : terms) matched += ts_matches(d->tsv, t) ? 1 : 0;
    ranked.push_back(
        {d, is_exact, ts_matches(d->tsv, *web), matched, ts_rank(kWeights, d->tsv, any, 1)});
  }
  const auto before = [](const Ranked& a, const Ranked& b) {
    if (a.exact != b.exact) return a.exact;
    if (a.web != b.web) return a.web;
    if (a.matched != b.matched) return a.matched > b.matched;
    if (a.rank != b.rank) return a.rank > b.rank;
    if (a.doc->page_id != b.doc->page_id) return a.doc->page_id < b.doc->page_id;
    return a.doc->section_position < b.doc->section_position;  // the page's own (-1) first
  };
  const auto limit =
      std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(std::max(ask.limit, 0)));
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(limit),
                    ranked.end(), before);
  ranked.resize(limit);

  MemoryRanking out;
  for (const auto& r : ranked) {
    const auto& p = *r.doc->page;
    const auto* s = r.doc->section;
    out.items.push_back({p.title, p.slug, p.creator_name, p.category, s ? s->content : p.summary,
                         s ? s->anchor : std::string(), s ? s->heading : std::string()});
    out.matched.push_back(r.matched);
  }
  return out;
}

}  // namespace chrysopedia::search

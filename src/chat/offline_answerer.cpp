#include "chat/offline_answerer.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chrysopedia::chat {

namespace {

const std::set<std::string>& stop_words() {
  static const std::set<std::string> words = {
      "a",     "about", "an",    "and",   "any",    "are", "as",   "at",     "be",   "but",
      "by",    "can",   "could", "do",    "does",   "for", "from", "get",    "how",  "i",
      "if",    "in",    "into",  "is",    "it",     "its", "just", "make",   "me",   "my",
      "of",    "on",    "or",    "out",   "should", "so",  "some", "that",   "the",  "their",
      "them",  "then",  "there", "this",  "to",     "up",  "use",  "want",   "was",  "way",
      "what",  "when",  "where", "which", "while",  "who", "why",  "will",   "with", "without",
      "would", "you",   "your",  "using", "than",   "too", "very", "really", "get",  "gets"};
  return words;
}

// Lower-case word stems: enough folding for "compressors" to meet
// "compression" half way ("compress"), without a real stemmer.
std::string stem(std::string w) {
  for (const char* suffix :
       {"ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "s", "ion", "ly"}) {
    const std::size_t n = std::char_traits<char>::length(suffix);
    if (w.size() > n + 3 && w.compare(w.size() - n, n, suffix) == 0) {
      w.resize(w.size() - n);
      break;
    }
  }
  return w;
}

std::vector<std::string> terms(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (std::isalnum(c) || c >= 0x80) {
      word += static_cast<char>(std::tolower(c));
    } else if (!word.empty()) {
      if (!stop_words().count(word) && word.size() > 1) out.push_back(stem(word));
      word.clear();
    }
  }
  return out;
}

std::vector<std::string> sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      if (!current.empty()) out.push_back(current);
      current.clear();
      continue;
    }
    current += c;
    const bool end = (c == '.' || c == '!' || c == '?') &&
                     (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n');
    if (end) {
      out.push_back(current);
      current.clear();
    }
  }
  if (!current.empty()) out.push_back(current);
  for (auto& s : out) {
    s.erase(0, s.find_first_not_of(" \t"));
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  }
  out.erase(
      std::remove_if(out.begin(), out.end(), [](const std::string& s) { return s.size() < 12; }),
      out.end());
  return out;
}

struct Candidate {
  std::size_t source;  // 0-based
  std::size_t order;   // position within the source
  double score;
  std::string text;
};

constexpr std::size_t kMaxSentences = 4;

}  // namespace

std::string offline_answer(const std::string& query, const std::vector<search::SearchItem>& items) {
  const std::string nothing =
      "I couldn't find anything in the Chrysopedia sources that answers this. Try rephrasing "
      "it, or name a technique, a tool or a creator.";
  const auto wanted = terms(query);
  if (items.empty() || wanted.empty()) return nothing;
  const std::set<std::string> query_terms(wanted.begin(), wanted.end());

  std::vector<Candidate> candidates;
  std::map<std::string, int> document_frequency;
  for (std::size_t s = 0; s < items.size(); ++s) {
    std::size_t order = 0;
    for (auto& text : sentences(items[s].summary)) {
      const auto ts = terms(text);
      for (const auto& t : std::set<std::string>(ts.begin(), ts.end())) ++document_frequency[t];
      candidates.push_back({s, order++, 0.0, std::move(text)});
    }
  }
  const double n = static_cast<double>(candidates.size());
  for (auto& c : candidates) {
    const auto ts = terms(c.text);
    std::set<std::string> matched;
    for (const auto& t : ts) {
      if (query_terms.count(t)) matched.insert(t);
    }
    for (const auto& t : matched) c.score += std::log(1.0 + n / document_frequency[t]);
    // Earlier sources ranked higher in search; prefer them a little.
    if (c.score > 0) c.score += 0.3 / static_cast<double>(c.source + 1);
  }
  std::vector<Candidate*> best;
  for (auto& c : candidates) {
    if (c.score > 0) best.push_back(&c);
  }
  if (best.empty()) return nothing;
  std::stable_sort(best.begin(), best.end(),
                   [](const Candidate* a, const Candidate* b) { return a->score > b->score; });
  if (best.size() > kMaxSentences) best.resize(kMaxSentences);
  std::sort(best.begin(), best.end(), [](const Candidate* a, const Candidate* b) {
    return a->source != b->source ? a->source < b->source : a->order < b->order;
  });

  std::string answer =
      "From the sources (no language model is configured, so these are "
      "their own words):\n\n";
  for (const auto* c : best) {
    answer += c->text + " [" + std::to_string(c->source + 1) + "]\n\n";
  }
  while (!answer.empty() && answer.back() == '\n') answer.pop_back();
  return answer;
}

namespace {

class OfflineStream final : public llm::CompletionStream {
 public:
  explicit OfflineStream(std::string text) {
    result_.text = std::move(text);
    result_.finish_reason = "stop";
  }

  boost::asio::awaitable<std::optional<std::string>> next() override {
    const std::string& t = result_.text;
    if (pos_ >= t.size()) co_return std::nullopt;
    // A word and the whitespace after it, like a model's tokens.
    std::size_t end = pos_;
    while (end < t.size() && t[end] != ' ' && t[end] != '\n') ++end;
    while (end < t.size() && (t[end] == ' ' || t[end] == '\n')) ++end;
    std::string delta = t.substr(pos_, end - pos_);
    pos_ = end;
    // Let other connections on this loop run between deltas.
    co_await boost::asio::post(co_await boost::asio::this_coro::executor,
                               boost::asio::use_awaitable);
    co_return delta;
  }

  const llm::CompletionResult& result() const override { return result_; }

 private:
  llm::CompletionResult result_;
  std::size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<llm::CompletionStream> OfflineAnswerer::start(
    const llm::CompletionRequest& request) {
  std::string question;
  for (const auto& m : request.messages) {
    if (m.role == "user") question = m.content;
  }
  std::vector<search::SearchItem> items(request.sources.size());
  for (std::size_t i = 0; i < items.size(); ++i) items[i].summary = request.sources[i];
  return std::make_unique<OfflineStream>(offline_answer(question, items));
}

}  // namespace chrysopedia::chat

// Writes a large synthetic corpus in the import format (SPEC §2), for the
// search and import benchmarks. Deterministic for a given seed.
//
//   corpus_generator PAGES [SEED] > corpus.jsonl
//
// Words follow a Zipf distribution over real music-production terms
// followed by a long tail of made-up words, so posting-list lengths look
// like a real corpus: a few words in most pages, most words in few.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/vocabulary.hpp"

namespace {

class Zipf {
 public:
  Zipf(std::size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) cdf_[i] = (sum += 1.0 / std::pow(double(i + 1), s));
    for (auto& c : cdf_) c /= sum;
  }
  std::size_t operator()(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
  }

 private:
  std::vector<double> cdf_;
};

std::string made_up_word(std::size_t i) {
  static const char* syllables[] = {"ka",  "lo",  "mi", "ter", "sun", "dra", "vel", "po",  "rin",
                                    "shu", "gal", "fe", "zor", "ny",  "tam", "bex", "qui", "ol"};
  std::string w;
  std::size_t v = i + 7;
  do {
    w += syllables[v % std::size(syllables)];
    v /= std::size(syllables);
  } while (v > 0);
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: corpus_generator PAGES [SEED] > corpus.jsonl\n";
    return 2;
  }
  const long pages = std::stol(argv[1]);
  std::mt19937_64 rng(argc > 2 ? std::stoull(argv[2]) : 42);

  std::vector<std::string> words(chrysopedia::bench::kTerms.begin(),
                                 chrysopedia::bench::kTerms.end());
  const std::size_t real_terms = words.size();
  for (std::size_t i = 0; i < 30000; ++i) words.push_back(made_up_word(i));
  const Zipf zipf(words.size(), 1.05);
  const Zipf term_zipf(real_terms, 0.9);
  const char* categories[] = {"mixing", "mastering", "sound-design", "synthesis", "drums",
                              "bass",   "vocals",    "arrangement",  "workflow"};
  auto text = [&](int n, const Zipf& z) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      if (i) s += ' ';
      s += words[z(rng)];
    }
    return s;
  };
  auto between = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };

  for (long p = 0; p < pages; ++p) {
    const long creator = static_cast<long>(zipf(rng) % 500);
    std::string title = text(between(3, 7), term_zipf);
    title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
    nlohmann::json tags = nlohmann::json::array();
    for (int t = between(2, 5); t > 0; --t) tags.push_back(words[term_zipf(rng)]);
    nlohmann::json sections = nlohmann::json::array();
    for (int s = between(2, 6), k = 0; k < s; ++k) {
      sections.push_back({{"anchor", "section-" + std::to_string(k + 1)},
                          {"heading", text(between(2, 5), term_zipf)},
                          {"content", text(between(80, 200), zipf)}});
    }
    nlohmann::json page = {{"slug", "page-" + std::to_string(p)},
                           {"title", title},
                           {"creator",
                            {{"slug", "creator-" + std::to_string(creator)},
                             {"name", "Creator " + std::to_string(creator)}}},
                           {"topic_category", categories[p % std::size(categories)]},
                           {"topic_tags", tags},
                           {"summary", text(between(20, 40), zipf)},
                           {"sections", sections}};
    std::cout << page.dump() << '\n';
  }
  return 0;
}

#pragma once

#include <algorithm>
#include <array>
#include <string_view>

namespace chrysopedia::search {

/// Postgres's English stop words (tsearch_data/english.stop, sorted): the
/// words to_tsvector('english', ...) drops. A query's terms that are one
/// of them match nothing, so they are not sent: a long question is half
/// stop words, and each term costs the search a tsquery to build.
inline constexpr auto kEnglishStopWords = [] {
  std::array<std::string_view, 127> words = {
      "i",       "me",      "my",      "myself",   "we",         "our",    "ours",    "ourselves",
      "you",     "your",    "yours",   "yourself", "yourselves", "he",     "him",     "his",
      "himself", "she",     "her",     "hers",     "herself",    "it",     "its",     "itself",
      "they",    "them",    "their",   "theirs",   "themselves", "what",   "which",   "who",
      "whom",    "this",    "that",    "these",    "those",      "am",     "is",      "are",
      "was",     "were",    "be",      "been",     "being",      "have",   "has",     "had",
      "having",  "do",      "does",    "did",      "doing",      "a",      "an",      "the",
      "and",     "but",     "if",      "or",       "because",    "as",     "until",   "while",
      "of",      "at",      "by",      "for",      "with",       "about",  "against", "between",
      "into",    "through", "during",  "before",   "after",      "above",  "below",   "to",
      "from",    "up",      "down",    "in",       "out",        "on",     "off",     "over",
      "under",   "again",   "further", "then",     "once",       "here",   "there",   "when",
      "where",   "why",     "how",     "all",      "any",        "both",   "each",    "few",
      "more",    "most",    "other",   "some",     "such",       "no",     "nor",     "not",
      "only",    "own",     "same",    "so",       "than",       "too",    "very",    "s",
      "t",       "can",     "will",    "just",     "don",        "should", "now",
  };
  std::sort(words.begin(), words.end());
  return words;
}();

/// Words a question is full of that say nothing of what it asks: how
/// people ask in this domain ("sound", "make", "want", "actually"), and the
/// function words of German, Spanish, French, Italian, Portuguese, Dutch and
/// Polish questions (which would match pieces of English words: "de" is
/// half of "de-essing"). None of them is also an English word or music term
/// ("per", "van", "op", "do", "a", "i", "e", "o", "ai", "dat", "met" stay
/// out); "come" and "hoe" are the exceptions, question words that say
/// nothing in an English question either. Sorted.
inline constexpr auto kQuestionNoise = [] {
  std::array<std::string_view, 395> words = {
      // English: how people ask
      "actually", "always", "any", "anything", "bit", "even", "everything", "figure", "get", "gets",
      "getting", "good", "help", "idea", "ideas", "just", "keep", "kind", "kinda", "know", "like",
      "lot", "lots", "make", "makes", "making", "need", "please", "really", "seem", "seems",
      "something", "sound", "sounds", "stuff", "sure", "thanks", "thing", "things", "tips", "try",
      "trying", "use", "using", "want", "way", "whole",
      // German
      "auf", "das", "dass", "den", "der", "die", "ein", "eine", "einen", "für", "ich", "im", "ist",
      "mein", "meine", "mit", "soll", "und", "von", "wie", "zu",
      // Spanish
      "cómo", "con", "del", "el", "en", "es", "la", "las", "los", "mi", "mis", "para", "por", "que",
      "qué", "se", "un", "una",
      // French
      "au", "avec", "ce", "comment", "de", "des", "du", "est", "et", "je", "le", "les", "ma", "mes",
      "mon", "pour", "une",
      // Italian
      "il", "gli", "uno", "della", "dello", "delle", "degli", "dei", "dal", "dalla", "dai", "dagli",
      "nel", "nella", "nei", "nelle", "negli", "sul", "sulla", "sui", "alla", "alle", "agli", "al",
      "allo", "da", "su", "tra", "fra", "mio", "mia", "miei", "mie", "tuo", "tua", "suo", "sua",
      "questo", "questa", "questi", "queste", "quello", "quella", "che", "cosa", "quale", "quali",
      "quando", "perché", "perche", "quanto", "quanti", "come", "è", "sono", "essere", "più", "piu",
      "molto", "troppo", "anche", "senza", "posso", "devo", "noi", "voi", "loro", "rendere",
      "usare", "suona", "suono", "voglio", "aiuto", "consigli", "grazie",
      // Portuguese
      "uma", "uns", "umas", "ao", "aos", "à", "às", "pelo", "pela", "pelos", "pelas", "com", "sem",
      "sobre", "entre", "eu", "meu", "minha", "meus", "minhas", "seu", "você", "vocês", "isso",
      "isto", "esse", "essa", "este", "esta", "como", "qual", "quais", "onde", "porque", "porquê",
      "quem", "são", "sao", "ser", "estar", "está", "fazer", "faço", "faco", "tenho", "ter", "mais",
      "muito", "muita", "ou", "te", "fica", "ficar", "deixar", "na", "som", "soa", "quero", "ajuda",
      "dicas", "obrigado", "obrigada",
      // Dutch
      "het", "een", "voor", "naar", "bij", "aan", "uit", "om", "zonder", "tussen", "ik", "mijn",
      "jij", "jouw", "jullie", "hij", "zij", "wij", "ze", "mij", "dit", "deze", "wat", "welke",
      "wanneer", "waar", "waarom", "hoe", "hoeveel", "zijn", "heb", "hebt", "heeft", "kan", "kun",
      "kunnen", "moet", "moeten", "wil", "wordt", "worden", "maak", "maken", "klinkt", "klinken",
      "krijg", "krijgen", "niet", "geen", "ook", "meer", "zo", "maar", "omdat", "gebruik",
      "gebruiken", "geluid", "hulp", "bedankt", "alsjeblieft",
      // Polish
      "w", "z", "przy", "dla", "bez", "za", "przez", "między", "miedzy", "lub", "albo", "czy", "że",
      "żeby", "zeby", "bo", "jeśli", "jesli", "gdy", "kiedy", "mój", "moj", "moja", "moje",
      "mojego", "mojej", "moim", "mnie", "ja", "ty", "ona", "ono", "oni", "wy", "jego", "jej",
      "tego", "tej", "tym", "ta", "się", "sie", "jak", "jaki", "jaka", "jakie", "jakiego", "jakim",
      "jakiej", "co", "gdzie", "dlaczego", "czemu", "ile", "który", "ktory", "która", "ktora",
      "które", "ktore", "są", "sa", "być", "byc", "mam", "mogę", "moge", "można", "mozna", "zrobić",
      "zrobic", "robić", "robic", "brzmi", "brzmienie", "chcę", "chce", "nie", "tak", "bardzo",
      "więcej", "wiecej", "bardziej", "zbyt", "coś", "ustawić", "ustawic", "dźwięk", "dzwiek",
      "pomoc", "porady", "dzięki", "dzieki", "proszę", "prosze"};
  std::sort(words.begin(), words.end());
  return words;
}();

/// `word` (lower case, no punctuation) is one of kQuestionNoise.
inline bool is_question_noise(std::string_view word) {
  return std::binary_search(kQuestionNoise.begin(), kQuestionNoise.end(), word);
}

/// `word` (lower case, no punctuation) is an English stop word.
inline bool is_stop_word(std::string_view word) {
  return std::binary_search(kEnglishStopWords.begin(), kEnglishStopWords.end(), word);
}

}  // namespace chrysopedia::search

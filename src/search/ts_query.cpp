#include "search/ts_query.hpp"

namespace chrysopedia::search {

namespace {

// Precedence as Postgres's: ! binds tightest, then <N>, then &, then |;
// operators of one precedence group to the left.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::optional<TsQuery> parse() {
    skip();
    if (at_end()) return q_;
    const int root = parse_or();
    skip();
    if (root < 0 || !at_end()) return std::nullopt;
    q_.root = root;
    return q_;
  }

 private:
  bool at_end() const { return i_ >= text_.size(); }
  void skip() {
    while (!at_end() && (text_[i_] == ' ' || text_[i_] == '\t' || text_[i_] == '\n')) ++i_;
  }

  int parse_or() {
    int left = parse_and();
    for (;;) {
      skip();
      if (left < 0 || at_end() || text_[i_] != '|') return left;
      ++i_;
      const int right = parse_and();
      if (right < 0) return -1;
      left = q_.add_operator(TsQuery::Kind::op_or, left, right);
    }
  }

  int parse_and() {
    int left = parse_phrase();
    for (;;) {
      skip();
      if (left < 0 || at_end() || text_[i_] != '&') return left;
      ++i_;
      const int right = parse_phrase();
      if (right < 0) return -1;
      left = q_.add_operator(TsQuery::Kind::op_and, left, right);
    }
  }

  // "<->" (1) or "<N>"; -1 when the text here is neither.
  int phrase_distance() {
    if (at_end() || text_[i_] != '<') return -1;
    std::size_t j = i_ + 1;
    int d = 0;
    if (j < text_.size() && text_[j] == '-') {
      d = 1;
      ++j;
    } else {
      const std::size_t digits = j;
      while (j < text_.size() && text_[j] >= '0' && text_[j] <= '9' && d < 100000) {
        d = d * 10 + (text_[j++] - '0');
      }
      if (j == digits) return -1;
    }
    if (j >= text_.size() || text_[j] != '>') return -1;
    i_ = j + 1;
    return d;
  }

  int parse_phrase() {
    int left = parse_unary();
    for (;;) {
      skip();
      if (left < 0) return -1;
      const int d = phrase_distance();
      if (d < 0) return left;
      const int right = parse_unary();
      if (right < 0) return -1;
      left = q_.add_operator(TsQuery::Kind::op_phrase, left, right, d);
    }
  }

  int parse_unary() {
    skip();
    if (at_end()) return -1;
    if (text_[i_] == '!') {
      ++i_;
      const int operand = parse_unary();
      if (operand < 0) return -1;
      return q_.add_operator(TsQuery::Kind::op_not, operand);
    }
    if (text_[i_] == '(') {
      ++i_;
      const int inner = parse_or();
      skip();
      if (inner < 0 || at_end() || text_[i_] != ')') return -1;
      ++i_;
      return inner;
    }
    return parse_operand();
  }

  int parse_operand() {
    TsQuery::Node n;
    if (text_[i_] == '\'') {
      for (++i_;; ++i_) {
        if (at_end()) return -1;
        const char c = text_[i_];
        if (c == '\\' && i_ + 1 < text_.size()) {
          n.lexeme += text_[++i_];
        } else if (c == '\'') {
          if (i_ + 1 < text_.size() && text_[i_ + 1] == '\'') {
            n.lexeme += '\'';
            ++i_;
          } else {
            ++i_;
            break;
          }
        } else {
          n.lexeme += c;
        }
      }
    } else {
      while (!at_end() &&
             std::string_view(" \t\n:&|!()<").find(text_[i_]) == std::string_view::npos) {
        n.lexeme += text_[i_++];
      }
      if (n.lexeme.empty()) return -1;
    }
    if (!at_end() && text_[i_] == ':') {
      for (++i_; !at_end(); ++i_) {
        const char c = text_[i_];
        if (c == '*') {
          n.prefix = true;
        } else if (c == 'A' || c == 'a') {
          n.weights |= 8;
        } else if (c == 'B' || c == 'b') {
          n.weights |= 4;
        } else if (c == 'C' || c == 'c') {
          n.weights |= 2;
        } else if (c == 'D' || c == 'd') {
          n.weights |= 1;
        } else {
          break;
        }
      }
    }
    return q_.add(std::move(n));
  }

  std::string_view text_;
  std::size_t i_ = 0;
  TsQuery q_;
};

}  // namespace

std::optional<TsQuery> parse_tsquery(std::string_view text) {
  return Parser(text).parse();
}

}  // namespace chrysopedia::search

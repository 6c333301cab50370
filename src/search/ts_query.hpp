#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::search {

/// A tsquery as Postgres evaluates it, for matching and ranking in the
/// process: a tree of lexemes under NOT, AND, OR and phrase operators.
struct TsQuery {
  enum class Kind : std::uint8_t { lexeme, op_not, op_and, op_or, op_phrase };
  struct Node {
    Kind kind = Kind::lexeme;
    std::string lexeme;        // lexeme
    bool prefix = false;       // lexeme: 'kick':* matches every lexeme it starts
    std::uint8_t weights = 0;  // lexeme: a mask of weights it is found at (bit 3: A .. 0: D), 0 any
    int distance = 0;          // phrase: <N>
    int left = -1;             // operators: the operands' nodes (NOT: left only)
    int right = -1;
  };
  std::vector<Node> nodes;
  int root = -1;  // -1: an empty query

  /// Adds a node; returns its index.
  int add_lexeme(std::string lexeme) {
    Node n;
    n.lexeme = std::move(lexeme);
    return add(std::move(n));
  }
  int add_operator(Kind kind, int left, int right = -1, int distance = 0) {
    Node n;
    n.kind = kind;
    n.left = left;
    n.right = right;
    n.distance = distance;
    return add(std::move(n));
  }
  int add(Node n) {
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size()) - 1;
  }
};

/// A tsquery from Postgres's text form ('kick' <-> 'drum' | !'bass':*A),
/// or nullopt when the text is not one.
std::optional<TsQuery> parse_tsquery(std::string_view text);

}  // namespace chrysopedia::search

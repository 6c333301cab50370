#include "search/ts_match.hpp"

#include <algorithm>
#include <climits>

namespace chrysopedia::search {

namespace {

enum class Ternary { no, yes, maybe };

// Where a phrase's operand matched (Postgres's ExecPhraseData): its
// positions (the ends of the matches when width > 0), or, negated,
// everywhere except there.
struct PhraseData {
  std::vector<int> pos;
  bool negate = false;
  int width = 0;
};

class Evaluator {
 public:
  Evaluator(const TsVector& tsv, const TsQuery& q) : tsv_(tsv), q_(q) {}

  Ternary execute(int node) const {
    const auto& n = q_.nodes[static_cast<std::size_t>(node)];
    switch (n.kind) {
      case TsQuery::Kind::lexeme:
        return operand(n, nullptr);
      case TsQuery::Kind::op_not:
        switch (execute(n.left)) {
          case Ternary::no:
            return Ternary::yes;
          case Ternary::yes:
            return Ternary::no;
          case Ternary::maybe:
            return Ternary::maybe;
        }
        break;
      case TsQuery::Kind::op_and: {
        const Ternary l = execute(n.left);
        if (l == Ternary::no) return Ternary::no;
        const Ternary r = execute(n.right);
        if (r == Ternary::no) return Ternary::no;
        return r == Ternary::maybe ? Ternary::maybe : l;
      }
      case TsQuery::Kind::op_or: {
        const Ternary l = execute(n.left);
        if (l == Ternary::yes) return Ternary::yes;
        const Ternary r = execute(n.right);
        if (r == Ternary::no) return l;
        return r;
      }
      case TsQuery::Kind::op_phrase:
        // A phrase whose positions are uncertain does not match (@@ does
        // not ask for TS_EXEC_PHRASE_NO_POS).
        return phrase(node, nullptr) == Ternary::yes ? Ternary::yes : Ternary::no;
    }
    return Ternary::no;
  }

 private:
  // checkcondition_str: whether the lexeme (or, for a prefix, any lexeme
  // it starts) is in the vector at an allowed weight, and where.
  Ternary operand(const TsQuery::Node& n, PhraseData* data) const {
    std::size_t i = n.prefix ? tsv_.lower_bound(n.lexeme) : 0;
    const TsVector::Entry* exact = n.prefix ? nullptr : tsv_.find(n.lexeme);
    Ternary res = Ternary::no;
    bool unplaced = false;
    std::vector<int> all;
    const auto consider = [&](const TsVector::Entry& e) {
      if (e.positions.empty()) {
        // Present, but where is unknown (and at which weight: not checked).
        if (data) unplaced = true;
        res = Ternary::yes;
        return;
      }
      bool any = false;
      for (const auto p : e.positions) {
        if (n.weights != 0 && !(n.weights & (1 << weight_of(p)))) continue;
        any = true;
        if (data) all.push_back(position_of(p));
      }
      if (any) res = Ternary::yes;
    };
    if (exact) {
      consider(*exact);
    } else if (n.prefix) {
      for (; i < tsv_.entries.size() && tsv_.entries[i].lexeme.starts_with(n.lexeme); ++i) {
        consider(tsv_.entries[i]);
      }
    }
    if (unplaced) return Ternary::maybe;
    if (data && !all.empty()) {
      std::sort(all.begin(), all.end());
      all.erase(std::unique(all.begin(), all.end()), all.end());
      data->pos = std::move(all);
      return Ternary::yes;
    }
    return data ? Ternary::no : res;
  }

  static constexpr int kLeftOnly = 1, kRightOnly = 2, kBoth = 4;

  // TS_phrase_output: the two position lists merged as `emit` says.
  static Ternary output(PhraseData* data, const PhraseData& l, const PhraseData& r, int emit,
                        int loffset, int roffset) {
    std::size_t li = 0, ri = 0;
    bool any = false;
    while (li < l.pos.size() || ri < r.pos.size()) {
      int lpos, rpos;
      if (li < l.pos.size()) {
        lpos = l.pos[li] + loffset;
      } else {
        if (!(emit & kRightOnly)) break;
        lpos = INT_MAX;
      }
      if (ri < r.pos.size()) {
        rpos = r.pos[ri] + roffset;
      } else {
        if (!(emit & kLeftOnly)) break;
        rpos = INT_MAX;
      }
      int out = 0;
      if (lpos < rpos) {
        if (emit & kLeftOnly) out = lpos;
        ++li;
      } else if (lpos == rpos) {
        if (emit & kBoth) out = rpos;
        ++li;
        ++ri;
      } else {
        if (emit & kRightOnly) out = rpos;
        ++ri;
      }
      if (out > 0) {
        if (!data) return Ternary::yes;
        data->pos.push_back(out);
        any = true;
      }
    }
    return any ? Ternary::yes : Ternary::no;
  }

  // TS_phrase_execute: at and below a phrase operator, with positions.
  Ternary phrase(int node, PhraseData* data) const {
    const auto& n = q_.nodes[static_cast<std::size_t>(node)];
    switch (n.kind) {
      case TsQuery::Kind::lexeme:
        return operand(n, data);
      case TsQuery::Kind::op_not:
        switch (phrase(n.left, data)) {
          case Ternary::no:
            data->negate = true;
            return Ternary::yes;
          case Ternary::yes:
            if (!data->pos.empty()) {
              data->negate = !data->negate;
              return Ternary::yes;
            }
            if (data->negate) {
              data->negate = false;
              return Ternary::no;
            }
            return Ternary::no;
          case Ternary::maybe:
            return Ternary::maybe;
        }
        return Ternary::no;
      case TsQuery::Kind::op_phrase:
      case TsQuery::Kind::op_and: {
        PhraseData l, r;
        const Ternary lm = phrase(n.left, &l);
        if (lm == Ternary::no) return Ternary::no;
        const Ternary rm = phrase(n.right, &r);
        if (rm == Ternary::no) return Ternary::no;
        if (lm == Ternary::maybe || rm == Ternary::maybe) return Ternary::maybe;
        int loffset, roffset;
        if (n.kind == TsQuery::Kind::op_phrase) {
          loffset = n.distance + r.width;
          roffset = 0;
          if (data) data->width = n.distance + l.width + r.width;
        } else {
          const int w = std::max(l.width, r.width);
          loffset = w - l.width;
          roffset = w - r.width;
          if (data) data->width = w;
        }
        if (l.negate && r.negate) {
          output(data, l, r, kBoth | kLeftOnly | kRightOnly, loffset, roffset);
          if (data) data->negate = true;
          return Ternary::yes;
        }
        if (l.negate) return output(data, l, r, kRightOnly, loffset, roffset);
        if (r.negate) return output(data, l, r, kLeftOnly, loffset, roffset);
        return output(data, l, r, kBoth, loffset, roffset);
      }
      case TsQuery::Kind::op_or: {
        PhraseData l, r;
        const Ternary lm = phrase(n.left, &l);
        const Ternary rm = phrase(n.right, &r);
        if (lm == Ternary::no && rm == Ternary::no) return Ternary::no;
        if (lm == Ternary::maybe || rm == Ternary::maybe) return Ternary::maybe;
        if (lm == Ternary::no) l.width = 0;
        if (rm == Ternary::no) r.width = 0;
        const int w = std::max(l.width, r.width);
        const int loffset = w - l.width;
        const int roffset = w - r.width;
        data->width = w;
        if (l.negate && r.negate) {
          output(data, l, r, kBoth, loffset, roffset);
          data->negate = true;
          return Ternary::yes;
        }
        if (l.negate) {
          output(data, l, r, kLeftOnly, loffset, roffset);
          data->negate = true;
          return Ternary::yes;
        }
        if (r.negate) {
          output(data, l, r, kRightOnly, loffset, roffset);
          data->negate = true;
          return Ternary::yes;
        }
        return output(data, l, r, kBoth | kLeftOnly | kRightOnly, loffset, roffset);
      }
    }
    return Ternary::no;
  }

  const TsVector& tsv_;
  const TsQuery& q_;
};

}  // namespace

bool ts_matches(const TsVector& tsv, const TsQuery& query) {
  if (query.root < 0) return false;
  return Evaluator(tsv, query).execute(query.root) != Ternary::no;
}

}  // namespace chrysopedia::search

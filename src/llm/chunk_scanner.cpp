#include "llm/chunk_scanner.hpp"

#include <cstdint>

#include "common/hex.hpp"
#include "common/utf8.hpp"

namespace chrysopedia::llm {

void ChunkFields::clear() {
  has_content = has_finish_reason = has_usage = has_error = false;
  content.clear();
  finish_reason.clear();
  error_message.clear();
  prompt_tokens = completion_tokens = 0;
}

namespace {

constexpr int kMaxDepth = 256;

class Scanner {
 public:
  Scanner(std::string_view s, ChunkFields& out) : s_(s), out_(out) {}

  ChunkScan run() {
    ws();
    if (peek() != '{') {
      const bool valid = skip_value(0) && (ws(), at_end());
      return valid ? ChunkScan::not_object : ChunkScan::not_json;
    }
    if (!top_object()) return ChunkScan::not_json;
    ws();
    return at_end() ? ChunkScan::ok : ChunkScan::not_json;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
  ChunkFields& out_;
  std::string key_;

  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  bool starts_number() const { return peek() == '-' || (peek() >= '0' && peek() <= '9'); }
  void ws() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    ws();
    if (peek() != c) return false;
    ++i_;
    return true;
  }

  // Iterates an object's members: `member(key)` must consume the value.
  template <typename Member>
  bool object(Member&& member) {
    if (!eat('{')) return false;
    ws();
    if (peek() == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      ws();
      key_.clear();
      if (!string(&key_)) return false;
      if (!eat(':')) return false;
      ws();
      // Members compare the key before reading their value, which may
      // reuse key_ for keys nested inside it.
      if (!member(std::string_view(key_))) return false;
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      return eat('}');
    }
  }

  bool top_object() {
    return object([this](std::string_view key) {
      if (key == "choices") return choices();
      if (key == "usage") return usage();
      if (key == "error") return error();
      return skip_value(1);
    });
  }

  bool choices() {
    if (peek() != '[') return skip_value(1);
    ++i_;
    ws();
    if (peek() == ']') {
      ++i_;
      return true;
    }
    for (bool first = true;; first = false) {
      ws();
      if (first && peek() == '{') {
        if (!choice()) return false;
      } else if (!skip_value(2)) {
        return false;
      }
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      return eat(']');
    }
  }

  bool choice() {
    return object([this](std::string_view key) {
      if (key == "delta" && peek() == '{') {
        return object([this](std::string_view k) {
          if (k == "content" && peek() == '"') {
            out_.content.clear();
            out_.has_content = true;
            return string(&out_.content);
          }
          return skip_value(4);
        });
      }
      if (key == "finish_reason" && peek() == '"') {
        out_.finish_reason.clear();
        out_.has_finish_reason = true;
        return string(&out_.finish_reason);
      }
      return skip_value(3);
    });
  }

  bool usage() {
    if (peek() != '{') return skip_value(1);
    bool have_prompt = false, have_completion = false;
    const bool ok = object([&](std::string_view key) {
      // A count of another type is valid JSON, only not a count.
      if (!starts_number()) return skip_value(2);
      if (key == "prompt_tokens") return integer(out_.prompt_tokens, have_prompt);
      if (key == "completion_tokens") return integer(out_.completion_tokens, have_completion);
      return skip_value(2);
    });
    out_.has_usage = ok && have_prompt && have_completion;
    return ok;
  }

  bool error() {
    const std::size_t start = i_;
    if (peek() == 'n') return skip_value(1);  // "error": null is no error
    out_.has_error = true;
    out_.error_message.clear();
    if (peek() == '"') return string(&out_.error_message);
    bool have_message = false;
    bool ok;
    if (peek() == '{') {
      ok = object([&](std::string_view key) {
        if (key == "message" && peek() == '"') {
          out_.error_message.clear();
          have_message = true;
          return string(&out_.error_message);
        }
        return skip_value(2);
      });
    } else {
      ok = skip_value(1);
    }
    if (ok && !have_message) {
      // Anything else is reported as it was sent, made safe to log.
      const std::string_view raw = s_.substr(start, i_ - start);
      out_.error_message.clear();
      for (std::size_t k = 0; k < raw.size();) {
        const std::size_t n = common::utf8_sequence(raw, k);
        if (n == 0) {
          out_.error_message.append(common::kReplacementCharacter);
          ++k;
        } else {
          out_.error_message.append(raw.substr(k, n));
          k += n;
        }
      }
    }
    return ok;
  }

  // An integer in the JSON sense nlohmann would give back as one: no
  // fraction or exponent. Other numbers are valid JSON but not counted.
  bool integer(long long& value, bool& is_integer) {
    const std::size_t start = i_;
    if (!number()) return false;
    const std::string_view text = s_.substr(start, i_ - start);
    if (text.find_first_of(".eE") != std::string_view::npos || text.size() > 18) return true;
    long long v = 0;
    for (char c : text)
      if (c != '-') v = v * 10 + (c - '0');
    value = text.front() == '-' ? -v : v;
    is_integer = true;
    return true;
  }

  bool number() {
    const std::size_t start = i_;
    if (peek() == '-') ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++i_;
    } else {
      return false;
    }
    if (peek() == '.') {
      ++i_;
      if (!(peek() >= '0' && peek() <= '9')) return false;
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!(peek() >= '0' && peek() <= '9')) return false;
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
    return i_ > start;
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  int hex4() {
    const int v = common::hex4_at(s_, i_);
    if (v >= 0) i_ += 4;
    return v;
  }

  static void append_code_point(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // A string; decoded into *out when given, else only checked.
  bool string(std::string* out) {
    if (peek() != '"') return false;
    ++i_;
    for (;;) {
      // The common case first: a run of plain printable ASCII.
      const std::size_t run = i_;
      while (i_ < s_.size()) {
        const auto c = static_cast<unsigned char>(s_[i_]);
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
        ++i_;
      }
      if (out && i_ > run) out->append(s_.data() + run, i_ - run);
      if (at_end()) return false;
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;  // control characters must be escaped
      if (c >= 0x80) {
        const std::size_t n = common::utf8_sequence(s_, i_);
        if (out) {
          if (n == 0)
            out->append(common::kReplacementCharacter);
          else
            out->append(s_.substr(i_, n));
        }
        i_ += n == 0 ? 1 : n;
        continue;
      }
      ++i_;  // a backslash
      if (at_end()) return false;
      const char e = s_[i_++];
      char plain = 0;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          plain = e;
          break;
        case 'b':
          plain = '\b';
          break;
        case 'f':
          plain = '\f';
          break;
        case 'n':
          plain = '\n';
          break;
        case 'r':
          plain = '\r';
          break;
        case 't':
          plain = '\t';
          break;
        case 'u': {
          int cp = hex4();
          if (cp < 0) return false;
          // A surrogate without its other half (a proxy that split a pair
          // between chunks, a model emitting half an emoji) becomes U+FFFD,
          // as invalid UTF-8 bytes do: one bad character, not a failed answer.
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
          } else if (cp >= 0xD800 && cp <= 0xDBFF) {
            const std::size_t after = i_;
            const int low = literal("\\u") ? hex4() : -1;
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              cp = 0xFFFD;
              i_ = after;  // what followed is read on its own
            }
          }
          if (out) append_code_point(*out, static_cast<std::uint32_t>(cp));
          continue;
        }
        default:
          return false;
      }
      if (out) out->push_back(plain);
    }
  }

  bool skip_value(int depth) {
    if (depth > kMaxDepth) return false;
    ws();
    switch (peek()) {
      case '"':
        return string(nullptr);
      case '{':
        return object([&](std::string_view) { return skip_value(depth + 1); });
      case '[': {
        ++i_;
        ws();
        if (peek() == ']') {
          ++i_;
          return true;
        }
        for (;;) {
          if (!skip_value(depth + 1)) return false;
          ws();
          if (peek() == ',') {
            ++i_;
            continue;
          }
          return eat(']');
        }
      }
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
};

}  // namespace

ChunkScan scan_chunk(std::string_view json, ChunkFields& out) {
  out.clear();
  return Scanner(json, out).run();
}

}  // namespace chrysopedia::llm

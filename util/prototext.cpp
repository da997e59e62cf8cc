// The protocol buffers text format reader: a tokenizer and a recursive descent over messages.
#include "util/prototext.hpp"

#include <charconv>
#include <cstdint>

#include "lib/base/ascii.hpp"

namespace hk::util::prototext {

ParseError::ParseError(int line_no, const std::string& msg)
    : std::runtime_error("line " + std::to_string(line_no) + ": " + msg),
      line(line_no),
      message(msg) {}

namespace {

enum class Tok { End, Ident, Number, String, Punct };

struct Token {
  Tok kind = Tok::End;
  std::string text;  // identifier or number as written, decoded string, or the punctuation
  int line = 0;
};

bool is_ident_start(char c) { return base::is_alpha(c) || c == '_'; }
bool is_ident_char(char c) { return base::is_alnum(c) || c == '_'; }

// Appends code point `cp` as UTF-8 (RFC 3629 §3); false for surrogates and beyond U+10FFFF.
bool append_utf8(std::string& out, uint32_t cp) {
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
    return false;
  }
  auto put = [&](uint32_t v) { out.push_back(static_cast<char>(static_cast<unsigned char>(v))); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xc0 | (cp >> 6));
    put(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    put(0xe0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3f));
    put(0x80 | (cp & 0x3f));
  } else {
    put(0xf0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3f));
    put(0x80 | ((cp >> 6) & 0x3f));
    put(0x80 | (cp & 0x3f));
  }
  return true;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : in_(text) {}

  const Token& peek() {
    if (!has_peeked_) {
      peeked_ = read();
      has_peeked_ = true;
    }
    return peeked_;
  }
  Token next() {
    peek();
    has_peeked_ = false;
    return std::move(peeked_);
  }
  int line() const { return line_; }

 private:
  [[noreturn]] void fail(const std::string& msg) const { throw ParseError(line_, msg); }

  void skip_blanks_and_comments() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < in_.size() && in_[pos_] != '\n') {
          ++pos_;
        }
      } else {
        return;
      }
    }
  }

  Token read() {
    skip_blanks_and_comments();
    Token tok;
    tok.line = line_;
    if (pos_ >= in_.size()) {
      return tok;
    }
    char c = in_[pos_];
    if (is_ident_start(c)) {
      size_t start = pos_;
      while (pos_ < in_.size() && is_ident_char(in_[pos_])) {
        ++pos_;
      }
      tok.kind = Tok::Ident;
      tok.text = std::string(in_.substr(start, pos_ - start));
    } else if (base::is_digit(c) || c == '-' || c == '.') {
      // Numbers as written, signs, floats and hex included; the caller converts what it needs.
      size_t start = pos_++;
      while (pos_ < in_.size() &&
             (is_ident_char(in_[pos_]) || in_[pos_] == '.' ||
              ((in_[pos_] == '-' || in_[pos_] == '+') && base::to_lower(in_[pos_ - 1]) == 'e'))) {
        ++pos_;
      }
      tok.kind = Tok::Number;
      tok.text = std::string(in_.substr(start, pos_ - start));
      if (tok.text == "-" || tok.text == ".") {
        fail("'" + tok.text + "' is not a number");
      }
    } else if (c == '"' || c == '\'') {
      tok.kind = Tok::String;
      tok.text = read_string(c);
    } else if (std::string_view(":{}<>[],;").find(c) != std::string_view::npos) {
      tok.kind = Tok::Punct;
      tok.text = std::string(1, c);
      ++pos_;
    } else {
      fail("unexpected character " + describe(c));
    }
    return tok;
  }

  static std::string describe(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7f) {
      return std::string("'") + c + "'";
    }
    static const char* kHex = "0123456789abcdef";
    return std::string("0x") + kHex[u >> 4] + kHex[u & 15];
  }

  // A quoted string from pos_ (on the opening quote), escapes decoded.
  std::string read_string(char quote) {
    std::string out;
    ++pos_;
    for (;;) {
      if (pos_ >= in_.size() || in_[pos_] == '\n') {
        fail("string not closed before the end of the line");
      }
      char c = in_[pos_++];
      if (c == quote) {
        return out;
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) {
        fail("string not closed before the end of the file");
      }
      read_escape(out);
    }
  }

  // One escape after its backslash.
  void read_escape(std::string& out) {
    char e = in_[pos_++];
    switch (e) {
      case 'a':
        out.push_back('\a');
        return;
      case 'b':
        out.push_back('\b');
        return;
      case 'f':
        out.push_back('\f');
        return;
      case 'n':
        out.push_back('\n');
        return;
      case 'r':
        out.push_back('\r');
        return;
      case 't':
        out.push_back('\t');
        return;
      case 'v':
        out.push_back('\v');
        return;
      case '\\':
      case '\'':
      case '"':
      case '?':
        out.push_back(e);
        return;
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      unsigned v = static_cast<unsigned>(e - '0');
      for (int i = 0; i < 2 && pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '7'; ++i) {
        v = v * 8 + static_cast<unsigned>(in_[pos_++] - '0');
      }
      if (v > 0xff) {
        fail("octal escape beyond \\377");
      }
      out.push_back(static_cast<char>(static_cast<unsigned char>(v)));
      return;
    }
    if (e == 'x' || e == 'X') {
      unsigned v = 0;
      int digits = 0;
      for (; digits < 2 && pos_ < in_.size() && base::hex_value(in_[pos_]) >= 0; ++digits) {
        v = v * 16 + static_cast<unsigned>(base::hex_value(in_[pos_++]));
      }
      if (digits == 0) {
        fail("\\x without hex digits");
      }
      out.push_back(static_cast<char>(static_cast<unsigned char>(v)));
      return;
    }
    if (e == 'u' || e == 'U') {
      int want = e == 'u' ? 4 : 8;
      uint32_t cp = 0;
      for (int i = 0; i < want; ++i) {
        if (pos_ >= in_.size() || base::hex_value(in_[pos_]) < 0) {
          fail(std::string("\\") + e + " needs " + std::to_string(want) + " hex digits");
        }
        cp = cp * 16 + static_cast<uint32_t>(base::hex_value(in_[pos_++]));
      }
      if (!append_utf8(out, cp)) {
        fail("\\" + std::string(1, e) + " names no Unicode scalar value");
      }
      return;
    }
    fail("unknown escape \\" + std::string(1, e));
  }

  std::string_view in_;
  size_t pos_ = 0;
  int line_ = 1;
  Token peeked_;
  bool has_peeked_ = false;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : lex_(text) {}

  std::vector<Field> top() {
    std::vector<Field> out = fields("", 0);
    return out;
  }

 private:
  [[noreturn]] void fail(int line, const std::string& msg) { throw ParseError(line, msg); }

  bool is_punct(const Token& t, char c) {
    return t.kind == Tok::Punct && t.text.size() == 1 && t.text[0] == c;
  }

  // Fields until `close` ('}' or '>') or, at the top (close == ""), the end of the input.
  std::vector<Field> fields(std::string_view close, int depth) {
    if (depth > kMaxDepth) {
      fail(lex_.line(), "messages nested deeper than " + std::to_string(kMaxDepth));
    }
    std::vector<Field> out;
    for (;;) {
      const Token& t = lex_.peek();
      if (t.kind == Tok::End) {
        if (!close.empty()) {
          fail(t.line, "'" + std::string(close) + "' missing before the end of the file");
        }
        return out;
      }
      if (!close.empty() && t.kind == Tok::Punct && t.text == close) {
        lex_.next();
        return out;
      }
      field(out, depth);
      const Token& sep = lex_.peek();
      if (is_punct(sep, ',') || is_punct(sep, ';')) {
        lex_.next();
      }
    }
  }

  void field(std::vector<Field>& out, int depth) {
    Token name = lex_.next();
    if (name.kind != Tok::Ident) {
      if (name.kind == Tok::Punct && name.text == "[") {
        fail(name.line, "extension names in brackets are not supported");
      }
      fail(name.line, "expected a field name, found " + shown(name));
    }
    bool colon = false;
    if (is_punct(lex_.peek(), ':')) {
      lex_.next();
      colon = true;
    }
    const Token& t = lex_.peek();
    if (is_punct(t, '{') || is_punct(t, '<')) {
      out.push_back(message(name, depth));
      return;
    }
    if (!colon) {
      fail(t.line, "expected ':' or '{' after \"" + name.text + "\", found " + shown(t));
    }
    if (is_punct(t, '[')) {
      lex_.next();
      if (is_punct(lex_.peek(), ']')) {
        lex_.next();
        return;
      }
      for (;;) {
        const Token& v = lex_.peek();
        if (is_punct(v, '{') || is_punct(v, '<')) {
          out.push_back(message(name, depth));
        } else {
          out.push_back(scalar(name));
        }
        Token after = lex_.next();
        if (is_punct(after, ']')) {
          return;
        }
        if (!is_punct(after, ',')) {
          fail(after.line,
               "expected ',' or ']' in the list of \"" + name.text + "\", found " + shown(after));
        }
      }
    }
    out.push_back(scalar(name));
  }

  Field message(const Token& name, int depth) {
    Token open = lex_.next();
    Field f;
    f.name = name.text;
    f.line = name.line;
    f.kind = Kind::Message;
    f.fields = fields(open.text == "{" ? "}" : ">", depth + 1);
    return f;
  }

  Field scalar(const Token& name) {
    Token v = lex_.next();
    Field f;
    f.name = name.text;
    f.line = name.line;
    f.text = v.text;
    switch (v.kind) {
      case Tok::String:
        f.kind = Kind::String;
        // Adjacent strings are one value ("a" "b" is "ab").
        while (lex_.peek().kind == Tok::String) {
          f.text += lex_.next().text;
        }
        return f;
      case Tok::Number:
        f.kind = Kind::Number;
        return f;
      case Tok::Ident:
        f.kind = Kind::Identifier;
        return f;
      default:
        fail(v.line, "expected a value for \"" + name.text + "\", found " + shown(v));
    }
  }

  static std::string shown(const Token& t) {
    switch (t.kind) {
      case Tok::End:
        return "the end of the file";
      case Tok::String:
        return "a string";
      default:
        return "'" + t.text + "'";
    }
  }

  Lexer lex_;
};

}  // namespace

std::vector<Field> parse(std::string_view text) { return Parser(text).top(); }

bool to_uint64(const Field& field, unsigned long long& out) {
  if (field.kind != Kind::Number) {
    return false;
  }
  std::string_view s = field.text;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

bool to_bool(const Field& field, bool& out) {
  if (field.kind != Kind::Identifier && field.kind != Kind::Number) {
    return false;
  }
  const std::string& t = field.text;
  if (t == "true" || t == "True" || t == "t" || t == "1") {
    out = true;
    return true;
  }
  if (t == "false" || t == "False" || t == "f" || t == "0") {
    out = false;
    return true;
  }
  return false;
}

}  // namespace hk::util::prototext

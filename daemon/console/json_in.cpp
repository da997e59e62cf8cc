// The JSON reader: recursive descent over RFC 8259's grammar, depth-bounded.
#include "daemon/console/json_in.hpp"

#include <cstdlib>

#include "lib/base/utf8.hpp"

namespace hk::console::json_in {
namespace {

class Reader {
 public:
  Reader(std::string_view text, size_t max_depth) : s_(text), max_depth_(max_depth) {}

  bool document(Value& out) {
    skip_ws();
    if (!value(out, 0)) {
      return false;
    }
    skip_ws();
    if (pos_ != s_.size()) {
      return fail("unexpected text after the JSON value");
    }
    return true;
  }
  std::string error;

 private:
  bool fail(std::string_view what) {
    if (error.empty()) {
      error = std::string(what) + " at offset " + std::to_string(pos_);
    }
    return false;
  }
  // RFC 8259 §2: insignificant whitespace is space, tab, LF and CR only.
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) {
      return fail("invalid literal");
    }
    pos_ += word.size();
    return true;
  }

  bool value(Value& out, size_t depth) {
    if (pos_ >= s_.size()) {
      return fail("unexpected end of the JSON text");
    }
    switch (s_[pos_]) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"':
        out.kind = Value::Kind::String;
        return string(out.string);
      case 't':
        out.kind = Value::Kind::Bool;
        out.boolean = true;
        return literal("true");
      case 'f':
        out.kind = Value::Kind::Bool;
        out.boolean = false;
        return literal("false");
      case 'n':
        out.kind = Value::Kind::Null;
        return literal("null");
      default:
        return number(out);
    }
  }

  bool object(Value& out, size_t depth) {
    if (depth > max_depth_) {
      return fail("JSON nested too deeply");
    }
    out.kind = Value::Kind::Object;
    ++pos_;  // '{'
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        return fail("expected a member name");
      }
      std::string name;
      if (!string(name)) {
        return false;
      }
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') {
        return fail("expected ':'");
      }
      ++pos_;
      skip_ws();
      Value v;
      if (!value(v, depth)) {
        return false;
      }
      out.object[std::move(name)] = std::move(v);
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(Value& out, size_t depth) {
    if (depth > max_depth_) {
      return fail("JSON nested too deeply");
    }
    out.kind = Value::Kind::Array;
    ++pos_;  // '['
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      Value v;
      if (!value(v, depth)) {
        return false;
      }
      out.array.push_back(std::move(v));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool hex4(unsigned& out) {
    if (s_.size() - pos_ < 4) {
      return fail("truncated \\u escape");
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        return fail("bad \\u escape");
      }
    }
    return true;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // RFC 8259 §7: control characters must be escaped; a lone surrogate is refused (it has no
  // UTF-8 form), and raw bytes must be well-formed UTF-8 (§8.1).
  bool string(std::string& out) {
    ++pos_;  // '"'
    for (;;) {
      if (pos_ >= s_.size()) {
        return fail("unterminated string");
      }
      auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        return fail("control character in a string");
      }
      if (c >= 0x80) {
        size_t len = base::utf8_sequence_length(s_.substr(pos_));
        if (len == 0) {
          return fail("invalid UTF-8 in a string");
        }
        out.append(s_.substr(pos_, len));
        pos_ += len;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) {
        return fail("unterminated string");
      }
      char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp)) {
            return false;
          }
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("lone low surrogate");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low = 0;
            if (s_.substr(pos_, 2) != "\\u") {
              return fail("lone high surrogate");
            }
            pos_ += 2;
            if (!hex4(low)) {
              return false;
            }
            if (low < 0xDC00 || low > 0xDFFF) {
              return fail("bad surrogate pair");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return fail("bad escape in a string");
      }
    }
  }

  // RFC 8259 §6: -? int frac? exp?; int has no leading zeros.
  bool number(Value& out) {
    size_t start = pos_;
    auto digits = [&] {
      size_t n = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        ++pos_;
        ++n;
      }
      return n;
    };
    if (pos_ < s_.size() && s_[pos_] == '-') {
      ++pos_;
    }
    size_t int_start = pos_;
    size_t n = digits();
    if (n == 0) {
      return fail("unexpected character");
    }
    if (n > 1 && s_[int_start] == '0') {
      return fail("leading zero in a number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) {
        return fail("bad number");
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
        ++pos_;
      }
      if (digits() == 0) {
        return fail("bad number");
      }
    }
    std::string text(s_.substr(start, pos_ - start));
    out.kind = Value::Kind::Number;
    out.number = std::strtod(text.c_str(), nullptr);
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  size_t max_depth_;
};

}  // namespace

const Value* Value::get(std::string_view name) const {
  if (kind != Kind::Object) {
    return nullptr;
  }
  auto it = object.find(std::string(name));
  return it == object.end() ? nullptr : &it->second;
}

std::optional<Value> parse(std::string_view text, std::string& error, size_t max_depth) {
  Reader r(text, max_depth);
  Value v;
  if (!r.document(v)) {
    error = r.error;
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> string_list(const Value& v) {
  if (v.kind != Value::Kind::Array) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  out.reserve(v.array.size());
  for (const Value& e : v.array) {
    if (e.kind != Value::Kind::String) {
      return std::nullopt;
    }
    out.push_back(e.string);
  }
  return out;
}

}  // namespace hk::console::json_in

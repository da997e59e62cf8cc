// authentication_results: builds the RFC 8601 field from verification results;
// parse_authentication_results and claims_authserv_id read fields that arrive with a message.
#include "lib/dkim/auth_results.hpp"

#include "lib/base/ascii.hpp"

namespace hk::dkim {
namespace {

// RFC 8601 §2.2 values are tokens or quoted strings; we only emit what needs no quoting: printable
// ASCII without space, specials that end a token (RFC 2045 tspecials) or comment delimiters.
std::string token(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7f &&
        std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos) {
      out += c;
    }
  }
  return out;
}

// smtp.mailfrom is an address: '@' is allowed there (RFC 8601 §2.3 permits a mailbox).
std::string mailbox(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7f &&
        std::string_view("()<>,;:\\\"[]").find(c) == std::string_view::npos) {
      out += c;
    }
  }
  return out;
}

// A comment's text (RFC 5322 §3.2.2): printable ASCII and spaces, without parentheses or
// backslashes, so it cannot end the comment early.
std::string comment(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '(' && c != ')' && c != '\\') {
      out += c;
    }
  }
  return out;
}

// RFC 8601 §2.7.1: the result keywords we may emit.
std::string dkim_result(std::string_view r) {
  for (std::string_view known :
       {"none", "pass", "fail", "policy", "neutral", "temperror", "permerror"}) {
    if (r == known) {
      return std::string(r);
    }
  }
  return "permerror";
}

// Appends words separated by spaces, folding with CRLF TAB before a word that would take the
// line past 78 columns (RFC 5322 §2.1.1).
class Folder {
 public:
  explicit Folder(std::string start) : out_(std::move(start)), col_(out_.size()) {}

  void new_line() {
    out_ += "\r\n\t";
    col_ = 8;
  }
  void word(const std::string& w) {
    if (col_ + 1 + w.size() > 78 && col_ > 8) {
      new_line();
      out_ += w;
      col_ += w.size();
      return;
    }
    if (col_ > 8) {
      out_ += ' ';
      ++col_;
    }
    out_ += w;
    col_ += w.size();
  }
  void append(const std::string& s) {
    out_ += s;
    col_ += s.size();
  }
  std::string finish() { return out_ + "\r\n"; }

 private:
  std::string out_;
  std::size_t col_;
};

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

bool is_utf8_octet(char c) { return static_cast<unsigned char>(c) >= 0x80; }  // RFC 6532 §3.2

// RFC 5322 §3.2.2 ctext, §3.2.4 qtext, §3.2.1 quoted-pair's second character.
bool is_ctext(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 33 && u <= 126 && c != '(' && c != ')' && c != '\\') || is_utf8_octet(c);
}
bool is_qtext(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 33 && u <= 126 && c != '"' && c != '\\') || is_utf8_octet(c);
}
bool is_quotable(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 33 && u <= 126) || is_wsp(c) || is_utf8_octet(c);
}

// RFC 2045 §5.1 token: any CHAR except SPACE, CTLs and tspecials.
bool is_token_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u > 32 && u < 127 &&
          std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos) ||
         is_utf8_octet(c);
}

// What a pvalue may hold outside quotes: an address, a domain, a token, and the base64 ("/",
// "=") that signers put in header.b= (RFC 8601 §2.2 is stricter; RFC 8601 §2.3 readers accept).
bool is_pvalue_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u > 32 && u < 127 && c != ';' && c != '(' && c != ')' && c != '"' && c != '\\') ||
         is_utf8_octet(c);
}

// A cursor over a field value with the RFC 5322 and RFC 8601 lexical pieces. Each reader either
// consumes what it reads or fails; none allocates more than the text it returns.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool at_end() const { return i_ >= s_.size(); }
  bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }
  std::size_t pos() const { return i_; }
  void seek(std::size_t i) { i_ = i; }
  void advance() { ++i_; }
  std::string_view since(std::size_t start) const { return s_.substr(start, i_ - start); }

  // A line break that folds: CRLF (or a bare LF, from messages stored with LF line ends)
  // followed by WSP (RFC 5322 §2.2.3). Returns its length, 0 when there is none here.
  std::size_t fold() const {
    std::size_t n = s_.compare(i_, 2, "\r\n") == 0 ? 2 : at('\n') ? 1 : 0;
    return n > 0 && i_ + n < s_.size() && is_wsp(s_[i_ + n]) ? n : 0;
  }

  // CFWS = *([FWS] comment) [FWS] (RFC 5322 §3.2.2), possibly empty. False when a comment is
  // not closed or holds what a comment may not.
  bool cfws() {
    while (true) {
      if (i_ < s_.size() && is_wsp(s_[i_])) {
        ++i_;
      } else if (std::size_t n = fold()) {
        i_ += n;
      } else if (at('(')) {
        if (!comment()) {
          return false;
        }
      } else {
        return true;
      }
    }
  }

  // A comment, nested comments inside (counted, not recursed into).
  bool comment() {
    std::size_t depth = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '(') {
        ++depth;
        ++i_;
      } else if (c == ')') {
        ++i_;
        if (--depth == 0) {
          return true;
        }
      } else if (c == '\\') {
        if (i_ + 1 >= s_.size() || !is_quotable(s_[i_ + 1])) {
          return false;
        }
        i_ += 2;
      } else if (is_ctext(c) || is_wsp(c)) {
        ++i_;
      } else if (std::size_t n = fold()) {
        i_ += n;
      } else {
        return false;
      }
    }
    return false;
  }

  // quoted-string without its CFWS (RFC 5322 §3.2.4): the content, unquoted and unfolded.
  std::optional<std::string> quoted_string() {
    if (!at('"')) {
      return std::nullopt;
    }
    std::string out;
    for (++i_; i_ < s_.size();) {
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c == '\\') {
        if (i_ + 1 >= s_.size() || !is_quotable(s_[i_ + 1])) {
          return std::nullopt;
        }
        out += s_[i_ + 1];
        i_ += 2;
      } else if (is_qtext(c) || is_wsp(c)) {
        out += c;
        ++i_;
      } else if (std::size_t n = fold()) {
        i_ += n;  // unfolding removes the line break, keeps the WSP
      } else {
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  // A run of characters satisfying `pred`, possibly empty.
  template <class Pred>
  std::string_view run(Pred pred) {
    std::size_t start = i_;
    while (i_ < s_.size() && pred(s_[i_])) {
      ++i_;
    }
    return s_.substr(start, i_ - start);
  }

  // RFC 2045 value = token / quoted-string; nullopt when neither is here.
  std::optional<std::string> value() {
    if (at('"')) {
      return quoted_string();
    }
    std::string_view t = run(is_token_char);
    if (t.empty()) {
      return std::nullopt;
    }
    return std::string(t);
  }

  // RFC 5321 §4.1.2 Keyword = Let-dig [Ldh-str]: letters, digits, hyphens, no hyphen at either
  // end. Empty when there is none (the reader is then left where it was).
  std::string keyword() {
    std::size_t start = i_;
    std::string_view k = run([](char c) { return base::is_alnum(c) || c == '-'; });
    if (k.empty() || k.front() == '-' || k.back() == '-') {
      i_ = start;
      return {};
    }
    return std::string(k);
  }

  std::string digits() { return std::string(run(base::is_digit)); }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

std::string_view without_final_crlf(std::string_view v) {
  if (v.ends_with("\r\n")) {
    v.remove_suffix(2);
  } else if (v.ends_with("\n")) {
    v.remove_suffix(1);
  }
  return v;
}

// resinfo after its ";" and CFWS (RFC 8601 §2.2):
//   methodspec [CFWS reasonspec] [CFWS 1*propspec]
//   methodspec = method [CFWS] "=" [CFWS] result, method = Keyword [[CFWS] "/" [CFWS] 1*DIGIT]
//   reasonspec = "reason" [CFWS] "=" [CFWS] value
//   propspec = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue, pvalue = [CFWS] ... [CFWS]
std::optional<AuthResultsEntry> resinfo(Reader& r) {
  AuthResultsEntry e;
  e.method = r.keyword();
  if (e.method.empty() || !r.cfws()) {
    return std::nullopt;
  }
  if (r.at('/')) {
    r.advance();
    if (!r.cfws()) {
      return std::nullopt;
    }
    e.method_version = r.digits();
    if (e.method_version.empty() || !r.cfws()) {
      return std::nullopt;
    }
  }
  if (!r.at('=')) {
    return std::nullopt;
  }
  r.advance();
  if (!r.cfws()) {
    return std::nullopt;
  }
  e.result = r.keyword();
  if (e.result.empty() || !r.cfws()) {
    return std::nullopt;
  }
  // "reason" followed by "=" is the reasonspec; followed by "." it would be a ptype.
  std::size_t mark = r.pos();
  if (base::iequals(r.keyword(), "reason") && r.cfws() && r.at('=')) {
    r.advance();
    std::optional<std::string> reason;
    if (!r.cfws() || !(reason = r.value()) || !r.cfws()) {
      return std::nullopt;
    }
    e.reason = std::move(*reason);
  } else {
    r.seek(mark);
  }
  while (!r.at_end() && !r.at(';')) {
    AuthResultsProperty p;
    p.ptype = r.keyword();
    if (p.ptype.empty() || !r.cfws() || !r.at('.')) {
      return std::nullopt;
    }
    r.advance();
    if (!r.cfws()) {
      return std::nullopt;
    }
    p.property = r.keyword();
    if (p.property.empty() || !r.cfws() || !r.at('=')) {
      return std::nullopt;
    }
    r.advance();
    if (!r.cfws()) {
      return std::nullopt;
    }
    std::size_t start = r.pos();
    if (r.at('"')) {
      // A quoted-string, or the quoted local-part of an address.
      if (!r.quoted_string()) {
        return std::nullopt;
      }
      if (r.at('@')) {
        r.advance();
        if (r.run(is_pvalue_char).empty()) {
          return std::nullopt;
        }
      }
    } else if (r.run(is_pvalue_char).empty()) {
      return std::nullopt;
    }
    p.value = std::string(r.since(start));
    if (!r.cfws()) {
      return std::nullopt;
    }
    e.properties.push_back(std::move(p));
  }
  return e;
}

}  // namespace

std::optional<AuthResultsField> parse_authentication_results(std::string_view field_value) {
  Reader r(without_final_crlf(field_value));
  AuthResultsField f;
  std::optional<std::string> id;
  if (!r.cfws() || !(id = r.value()) || id->empty()) {
    return std::nullopt;
  }
  f.authserv_id = std::move(*id);
  std::size_t before = r.pos();
  if (!r.cfws()) {
    return std::nullopt;
  }
  if (r.pos() > before) {  // authres-version needs CFWS before it
    f.version = r.digits();
    if (!r.cfws()) {
      return std::nullopt;
    }
  }
  if (!r.at(';')) {
    return std::nullopt;  // neither "; none" nor a resinfo
  }
  // no-result = [CFWS] ";" [CFWS] "none", then only [CFWS] to the end.
  std::size_t mark = r.pos();
  r.advance();
  if (r.cfws() && base::iequals(r.keyword(), "none") && r.cfws() && r.at_end()) {
    return f;
  }
  r.seek(mark);
  while (!r.at_end()) {
    if (!r.at(';')) {
      return std::nullopt;
    }
    r.advance();
    if (!r.cfws()) {
      return std::nullopt;
    }
    std::optional<AuthResultsEntry> e = resinfo(r);
    if (!e) {
      return std::nullopt;
    }
    f.results.push_back(std::move(*e));
  }
  return f;
}

std::optional<std::string> parse_authserv_id(std::string_view field_value) {
  std::optional<AuthResultsField> f = parse_authentication_results(field_value);
  if (!f) {
    return std::nullopt;
  }
  return std::move(f->authserv_id);
}

bool claims_authserv_id(std::string_view field_value, std::string_view authserv_id) {
  if (authserv_id.empty()) {
    return false;
  }
  Reader r(without_final_crlf(field_value));
  std::optional<std::string> id;
  if (!r.cfws() || !(id = r.value())) {
    return false;
  }
  // The id must end where the grammar lets it end, not inside a longer malformed word.
  bool ends = r.at_end() || r.at(';') || r.at('(') || r.at(' ') || r.at('\t') || r.fold() > 0;
  return ends && base::iequals(*id, authserv_id);
}

std::string authentication_results(const std::string& authserv_id,
                                   const std::vector<DkimVerifyResult>& dkim,
                                   std::string_view spf_result, std::string_view spf_mailfrom) {
  return authentication_results(authserv_id, dkim, spf_result, spf_mailfrom, {});
}

std::string authentication_results(const std::string& authserv_id,
                                   const std::vector<DkimVerifyResult>& dkim,
                                   std::string_view spf_result, std::string_view spf_mailfrom,
                                   const std::vector<ResultInfo>& more) {
  Folder f("Authentication-Results: " + token(authserv_id));
  std::string spf = token(spf_result);
  if (dkim.empty() && spf.empty() && more.empty()) {
    f.append("; none");
    return f.finish();
  }
  auto separate = [&f] {
    f.append(";");
    f.new_line();
  };
  for (const DkimVerifyResult& r : dkim) {
    separate();
    f.append("dkim=" + dkim_result(r.result));
    std::string why = comment(r.detail);
    if (!why.empty() && r.result != "pass") {
      f.word("(" + why + ")");
    }
    std::string d = token(r.domain);
    if (!d.empty()) {
      f.word("header.d=" + d);
    }
    std::string s = token(r.selector);
    if (!s.empty()) {
      f.word("header.s=" + s);
    }
  }
  if (!spf.empty()) {
    separate();
    f.append("spf=" + spf);
    std::string from = mailbox(spf_mailfrom);
    if (!from.empty()) {
      f.word("smtp.mailfrom=" + from);
    }
  }
  for (const ResultInfo& r : more) {
    std::string method = token(r.method);
    std::string result = token(r.result);
    if (method.empty() || result.empty()) {
      continue;
    }
    separate();
    f.append(method + "=" + result);
    std::string why = comment(r.comment);
    if (!why.empty()) {
      f.word("(" + why + ")");
    }
    for (const auto& [name, value] : r.properties) {
      std::string v = token(value);
      if (!v.empty()) {
        f.word(token(name) + "=" + v);
      }
    }
  }
  return f.finish();
}

}  // namespace hk::dkim

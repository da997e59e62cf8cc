// authentication_results: builds the RFC 8601 field from verification results.
#include "lib/dkim/auth_results.hpp"

namespace hk::dkim {
namespace {

// RFC 8601 §2.2 values are tokens or quoted strings; we only emit what needs no quoting: printable
// ASCII without space, specials that end a token (RFC 2045 tspecials) or comment delimiters.
std::string token(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7f &&
        std::string_view("()<>,;:\\\"/[]?=").find(c) == std::string_view::npos) {
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

}  // namespace

std::string authentication_results(const std::string& authserv_id,
                                   const std::vector<DkimVerifyResult>& dkim,
                                   std::string_view spf_result, std::string_view spf_mailfrom) {
  Folder f("Authentication-Results: " + token(authserv_id));
  std::string spf = token(spf_result);
  if (dkim.empty() && spf.empty()) {
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
  return f.finish();
}

}  // namespace hk::dkim

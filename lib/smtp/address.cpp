// Envelope address parsing (RFC 5321 §4.1.2, RFC 6531 §3.3) and IDNA domain normalisation.
#include "lib/smtp/address.hpp"

#include "lib/base/quote.hpp"
#include "lib/smtp/domain.hpp"
#include "lib/smtp/text.hpp"

namespace hk::smtp {
namespace {

// RFC 5321 §4.5.3.1.1-3.
constexpr size_t kMaxLocal = 64;
constexpr size_t kMaxDomain = 255;
constexpr size_t kMaxPath = 256;

// RFC 5322 §3.2.3 atext.
bool is_atext(char c) {
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return is_alnum(c) || (c != '\0' && kSpecials.find(c) != std::string_view::npos);
}

// RFC 5321 §4.1.2 qtextSMTP: %d32-33 / %d35-91 / %d93-126.
bool is_qtext(char c) { return c >= 32 && c <= 126 && c != '"' && c != '\\'; }

struct PathError {
  int code;
  std::string_view what;
};

Reply path_reply(PathKind kind, PathError e) {
  bool sender = kind == PathKind::Reverse;
  std::string text = sender ? "Bad sender address: " : "Bad recipient address: ";
  return Reply(e.code, sender ? "5.1.7" : "5.1.3", text + std::string(e.what));
}

constexpr PathError kSyntax{501, "syntax error"};

// Recursive-descent over one path. Positions are offsets into `in_`.
class PathParser {
 public:
  PathParser(std::string_view in, PathKind kind) : in_(in), kind_(kind) {}

  PathResult run(size_t& used) {
    PathError err = kSyntax;
    if (!parse(err)) {
      return PathResult::failure(path_reply(kind_, err));
    }
    used = pos_;
    return PathResult::success(std::move(addr_));
  }

 private:
  bool at(char c) const { return pos_ < in_.size() && in_[pos_] == c; }

  bool parse(PathError& err) {
    if (!at('<')) {
      err = {501, "address must be enclosed in <>"};
      return false;
    }
    ++pos_;
    if (in_.find('>', pos_) == std::string_view::npos) {
      err = {501, "missing >"};
      return false;
    }
    if (at('>')) {
      ++pos_;
      if (kind_ != PathKind::Reverse) {
        err = {501, "null address not allowed here"};
        return false;
      }
      return true;
    }
    if (at('@') && !skip_route(err)) {
      return false;
    }
    if (!parse_local(err)) {
      return false;
    }
    if (at('>')) {
      // RFC 5321 §4.1.1.3: <Postmaster> without a domain, only as a recipient.
      if (kind_ == PathKind::Forward && !quoted_ && iequals(addr_.local, "postmaster")) {
        addr_.local = "postmaster";
        ++pos_;
        return check_path_length(err);
      }
      err = {501, "missing @domain"};
      return false;
    }
    if (!at('@')) {
      return false;
    }
    ++pos_;
    if (!parse_domain(err)) {
      return false;
    }
    if (!at('>')) {
      return false;
    }
    ++pos_;
    return check_path_length(err);
  }

  bool check_path_length(PathError& err) {
    if (pos_ > kMaxPath) {
      err = {501, "path too long"};  // RFC 5321 §4.5.3.1.9 "501 Path too long"
      return false;
    }
    return true;
  }

  // A-d-l = At-domain *( "," At-domain ) ":"  — validated, then forgotten (RFC 5321 App. C).
  bool skip_route(PathError& err) {
    for (;;) {
      if (!at('@')) {
        return false;
      }
      ++pos_;
      size_t end = in_.find_first_of(",:>", pos_);
      if (end == std::string_view::npos) {
        return false;
      }
      std::string_view domain = in_.substr(pos_, end - pos_);
      if (normalize_domain(domain).empty()) {
        err = {501, "bad source route"};
        return false;
      }
      pos_ = end;
      if (at(',')) {
        ++pos_;
        continue;
      }
      if (at(':')) {
        ++pos_;
        return true;
      }
      return false;
    }
  }

  bool parse_local(PathError& err) {
    size_t start = pos_;
    if (at('"')) {
      quoted_ = true;
      if (!parse_quoted(err)) {
        return false;
      }
    } else if (!parse_dot_string(err)) {
      return false;
    }
    if (pos_ - start > kMaxLocal) {
      err = {553, "local part longer than 64 octets"};  // RFC 5321 §4.5.3.1.1
      return false;
    }
    return true;
  }

  // Dot-string = Atom *("." Atom); atext =/ UTF8-non-ascii (RFC 6531 §3.3).
  bool parse_dot_string(PathError& err) {
    bool need_atom = true;
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (is_atext(c)) {
        addr_.local += c;
        ++pos_;
        need_atom = false;
      } else if (!is_ascii(c)) {
        if (!take_utf8(addr_.local, err)) {
          return false;
        }
        need_atom = false;
      } else if (c == '.') {
        if (need_atom) {
          return false;  // leading or doubled dot
        }
        addr_.local += c;
        ++pos_;
        need_atom = true;
      } else {
        break;
      }
    }
    return !need_atom;  // also rejects an empty or dot-terminated local part
  }

  // Quoted-string = DQUOTE *QcontentSMTP DQUOTE; qtextSMTP =/ UTF8-non-ascii (RFC 6531 §3.3).
  bool parse_quoted(PathError& err) {
    ++pos_;
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        // quoted-pairSMTP = %d92 %d32-126
        if (pos_ + 1 >= in_.size() || in_[pos_ + 1] < 32 || in_[pos_ + 1] > 126) {
          return false;
        }
        addr_.local += in_[pos_ + 1];
        pos_ += 2;
      } else if (is_qtext(c)) {
        addr_.local += c;
        ++pos_;
      } else if (!is_ascii(c)) {
        if (!take_utf8(addr_.local, err)) {
          return false;
        }
      } else {
        return false;
      }
    }
    return false;
  }

  bool take_utf8(std::string& out, PathError& err) {
    size_t n = utf8_sequence_length(in_.substr(pos_));
    if (n == 0) {
      err = {501, "invalid UTF-8"};
      return false;
    }
    out += in_.substr(pos_, n);
    pos_ += n;
    addr_.utf8 = true;
    return true;
  }

  bool parse_domain(PathError& err) {
    if (at('[')) {
      size_t close = in_.find(']', pos_);
      if (close == std::string_view::npos) {
        return false;
      }
      addr_.domain = normalize_address_literal(in_.substr(pos_ + 1, close - pos_ - 1));
      if (addr_.domain.empty()) {
        err = {501, "bad address literal"};
        return false;
      }
      addr_.literal = true;
      pos_ = close + 1;
      return true;
    }
    size_t end = in_.find('>', pos_);
    if (end == std::string_view::npos) {
      return false;
    }
    std::string_view domain = in_.substr(pos_, end - pos_);
    if (domain.size() > kMaxDomain) {
      err = {553, "domain longer than 255 octets"};  // RFC 5321 §4.5.3.1.2
      return false;
    }
    if (!domain.empty() && domain.back() == '.') {
      // RFC 5321 §4.1.2: Domain has no root dot. "user@local.example." is a classic way to slip
      // past a string comparison with the local domain list.
      err = {501, "trailing dot in domain"};
      return false;
    }
    addr_.domain = normalize_domain(domain);
    if (addr_.domain.empty()) {
      err = {501, all_ascii(domain) ? "bad domain" : "bad internationalized domain"};
      return false;
    }
    addr_.utf8 = addr_.utf8 || !all_ascii(domain);
    pos_ = end;
    return true;
  }

  std::string_view in_;
  PathKind kind_;
  size_t pos_ = 0;
  bool quoted_ = false;
  Address addr_;
};

bool is_dot_string(std::string_view s) {
  bool need_atom = true;
  while (!s.empty()) {
    char c = s.front();
    if (c == '.') {
      if (need_atom) {
        return false;
      }
      need_atom = true;
      s.remove_prefix(1);
    } else if (is_atext(c)) {
      need_atom = false;
      s.remove_prefix(1);
    } else if (!is_ascii(c)) {
      size_t n = utf8_sequence_length(s);
      if (n == 0) {
        return false;
      }
      need_atom = false;
      s.remove_prefix(n);
    } else {
      return false;
    }
  }
  return !need_atom;
}

}  // namespace

std::string Address::str() const {
  if (is_null()) {
    return {};
  }
  std::string out;
  if (is_dot_string(local)) {
    out = local;
  } else {
    base::append_quoted(out, local);
  }
  if (!domain.empty()) {
    out += '@';
    out += domain;
  }
  return out;
}

PathResult parse_path_prefix(std::string_view text, PathKind kind, size_t& used) {
  return PathParser(text, kind).run(used);
}

PathResult parse_path(std::string_view text, PathKind kind) {
  size_t used = 0;
  PathResult result = parse_path_prefix(text, kind, used);
  if (result.ok && used != text.size()) {
    return PathResult::failure(path_reply(kind, kSyntax));
  }
  return result;
}

}  // namespace hk::smtp

// MAIL FROM / RCPT TO argument parsing: path, then ESMTP parameters.
#include "lib/smtp/params.hpp"

#include <limits>
#include <vector>

#include "lib/smtp/auth.hpp"
#include "lib/smtp/text.hpp"

namespace hk::smtp {
namespace {

// RFC 1870 §3: size-value = 1*20DIGIT.
constexpr size_t kMaxSizeDigits = 20;
// RFC 3461 §4.4: ENVID is at most 100 characters; §4.2: ORCPT at most 500.
constexpr size_t kMaxEnvid = 100;
constexpr size_t kMaxOrcpt = 500;

struct Param {
  std::string_view keyword;
  std::optional<std::string_view> value;
};

Reply bad_param(std::string text) { return Reply(501, "5.5.4", std::move(text)); }
Reply unknown_param(std::string_view keyword) {
  return Reply(555, "5.5.4", "Unsupported parameter " + to_upper(keyword));
}
Reply non_ascii_address() {
  return Reply(553, "5.6.7", "Non-ASCII address requires the SMTPUTF8 parameter");
}

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool valid_keyword(std::string_view k) {
  if (k.empty() || !is_alnum(k.front())) {
    return false;
  }
  for (char c : k) {
    if (!is_alnum(c) && c != '-') {
      return false;
    }
  }
  return true;
}

// esmtp-value = 1*(%d33-60 / %d62-126), plus UTF8-non-ascii (RFC 6531 §3.3).
bool valid_value(std::string_view v) {
  if (v.empty()) {
    return false;
  }
  if (!is_valid_utf8(v)) {
    return false;
  }
  for (char c : v) {
    if (is_ascii(c) && (c < 33 || c > 126 || c == '=')) {
      return false;
    }
  }
  return true;
}

// Splits "<path> SP params" after the path into parameters. Several spaces between parameters
// and trailing spaces are tolerated.
std::optional<std::vector<Param>> split_params(std::string_view rest, Reply& error) {
  std::vector<Param> params;
  if (!rest.empty() && rest.front() != ' ') {
    error = bad_param("Syntax error after the address");
    return std::nullopt;
  }
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') {
      rest.remove_prefix(1);
    }
    if (rest.empty()) {
      break;
    }
    size_t end = rest.find(' ');
    std::string_view token = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    Param p;
    size_t eq = token.find('=');
    p.keyword = token.substr(0, eq);
    if (eq != std::string_view::npos) {
      p.value = token.substr(eq + 1);
    }
    if (!valid_keyword(p.keyword) || (p.value && !valid_value(*p.value))) {
      error = bad_param("Malformed parameter");
      return std::nullopt;
    }
    for (const Param& seen : params) {
      if (iequals(seen.keyword, p.keyword)) {
        error = bad_param("Duplicate parameter " + to_upper(p.keyword));
        return std::nullopt;
      }
    }
    params.push_back(p);
  }
  return params;
}

bool parse_size(std::string_view v, uint64_t& out) {
  if (v.empty() || v.size() > kMaxSizeDigits) {
    return false;
  }
  uint64_t n = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (char c : v) {
    if (!is_digit(c)) {
      return false;
    }
    auto d = static_cast<uint64_t>(c - '0');
    // A declared size beyond 2^64-1 is still a syntactically valid 20-digit number; saturating
    // lets the server answer 552 (too big) rather than 501.
    n = (n > (kMax - d) / 10) ? kMax : n * 10 + d;
  }
  out = n;
  return true;
}

// RFC 3461 §4.1: NOTIFY="NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ).
std::optional<std::string> parse_notify(std::string_view v) {
  std::string upper = to_upper(v);
  if (upper == "NEVER") {
    return upper;
  }
  std::vector<std::string_view> seen;
  std::string_view rest = upper;
  for (;;) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    if (item != "SUCCESS" && item != "FAILURE" && item != "DELAY") {
      return std::nullopt;
    }
    for (std::string_view s : seen) {
      if (s == item) {
        return std::nullopt;
      }
    }
    seen.push_back(item);
    if (comma == std::string_view::npos) {
      return upper;
    }
    rest.remove_prefix(comma + 1);
  }
}

// RFC 3461 §4.2: ORCPT=addr-type ";" xtext, addr-type an atom.
bool valid_orcpt(std::string_view v) {
  size_t semi = v.find(';');
  if (semi == 0 || semi == std::string_view::npos || v.size() > kMaxOrcpt) {
    return false;
  }
  for (char c : v.substr(0, semi)) {
    if (!is_alnum(c) && c != '-') {
      return false;
    }
  }
  return xtext_decode(v.substr(semi + 1)).has_value();
}

bool has_ctl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) {
      return true;
    }
  }
  return false;
}

}  // namespace

MailResult parse_mail_from(std::string_view arg, const Extensions& ext) {
  size_t used = 0;
  PathResult path = parse_path_prefix(arg, PathKind::Reverse, used);
  if (!path.ok) {
    return MailResult::failure(std::move(path.error));
  }
  Reply error;
  std::optional<std::vector<Param>> params = split_params(arg.substr(used), error);
  if (!params) {
    return MailResult::failure(std::move(error));
  }
  MailFrom mail;
  mail.from = std::move(path.value);
  for (const Param& p : *params) {
    if (ext.size && iequals(p.keyword, "SIZE")) {
      uint64_t n = 0;
      if (!p.value || !parse_size(*p.value, n)) {
        return MailResult::failure(bad_param("Bad SIZE value"));  // RFC 1870 §6
      }
      mail.size = n;
    } else if (ext.eightbitmime && iequals(p.keyword, "BODY")) {
      // RFC 6152 §2: BODY=7BIT / 8BITMIME. BINARYMIME needs CHUNKING (RFC 3030 §3), which is
      // not offered, so it is an unsupported parameter value.
      if (p.value && iequals(*p.value, "7BIT")) {
        mail.body = MailFrom::Body::SevenBit;
      } else if (p.value && iequals(*p.value, "8BITMIME")) {
        mail.body = MailFrom::Body::EightBitMime;
      } else if (p.value && iequals(*p.value, "BINARYMIME")) {
        return MailResult::failure(Reply(555, "5.5.4", "BODY=BINARYMIME not supported"));
      } else {
        return MailResult::failure(bad_param("Bad BODY value"));
      }
    } else if (ext.smtputf8 && iequals(p.keyword, "SMTPUTF8")) {
      if (p.value) {
        return MailResult::failure(bad_param("SMTPUTF8 takes no value"));  // RFC 6531 §3.4
      }
      mail.smtputf8 = true;
    } else if (ext.auth && iequals(p.keyword, "AUTH")) {
      std::optional<std::string> decoded = p.value ? xtext_decode(*p.value) : std::nullopt;
      if (!decoded || decoded->empty() || has_ctl(*decoded)) {
        return MailResult::failure(bad_param("Bad AUTH value"));  // RFC 4954 §5
      }
      mail.auth = std::move(*decoded);
    } else if (ext.dsn && iequals(p.keyword, "RET")) {
      if (!p.value || (!iequals(*p.value, "FULL") && !iequals(*p.value, "HDRS"))) {
        return MailResult::failure(bad_param("Bad RET value"));  // RFC 3461 §4.3
      }
      mail.ret = to_upper(*p.value);
    } else if (ext.requiretls && iequals(p.keyword, "REQUIRETLS")) {
      if (p.value) {
        return MailResult::failure(bad_param("REQUIRETLS takes no value"));  // RFC 8689 §2
      }
      mail.requiretls = true;
    } else if (ext.dsn && iequals(p.keyword, "ENVID")) {
      if (!p.value || p.value->size() > kMaxEnvid || !xtext_decode(*p.value)) {
        return MailResult::failure(bad_param("Bad ENVID value"));  // RFC 3461 §4.4
      }
      mail.envid = std::string(*p.value);
    } else {
      return MailResult::failure(unknown_param(p.keyword));
    }
  }
  if (mail.from.utf8 && !mail.smtputf8) {
    return MailResult::failure(non_ascii_address());
  }
  return MailResult::success(std::move(mail));
}

RcptResult parse_rcpt_to(std::string_view arg, bool smtputf8, const Extensions& ext) {
  size_t used = 0;
  PathResult path = parse_path_prefix(arg, PathKind::Forward, used);
  if (!path.ok) {
    return RcptResult::failure(std::move(path.error));
  }
  Reply error;
  std::optional<std::vector<Param>> params = split_params(arg.substr(used), error);
  if (!params) {
    return RcptResult::failure(std::move(error));
  }
  RcptTo rcpt;
  rcpt.to = std::move(path.value);
  for (const Param& p : *params) {
    if (ext.dsn && iequals(p.keyword, "NOTIFY")) {
      std::optional<std::string> notify = p.value ? parse_notify(*p.value) : std::nullopt;
      if (!notify) {
        return RcptResult::failure(bad_param("Bad NOTIFY value"));  // RFC 3461 §4.1
      }
      rcpt.notify = std::move(*notify);
    } else if (ext.dsn && iequals(p.keyword, "ORCPT")) {
      if (!p.value || !valid_orcpt(*p.value)) {
        return RcptResult::failure(bad_param("Bad ORCPT value"));  // RFC 3461 §4.2
      }
      rcpt.orcpt = std::string(*p.value);
    } else {
      return RcptResult::failure(unknown_param(p.keyword));
    }
  }
  if (rcpt.to.utf8 && !smtputf8) {
    return RcptResult::failure(non_ascii_address());
  }
  return RcptResult::success(std::move(rcpt));
}

}  // namespace hk::smtp

// ReplyParser and parse_ehlo: reading what a remote SMTP server says.
#include "lib/smtp/client_reply.hpp"

#include <limits>

#include "lib/smtp/text.hpp"

namespace hk::smtp {
namespace {

// "c.s.d" with class 2/4/5, subject and detail of 1 to 3 digits (RFC 3463 §2), followed by
// a space or the end of the text. Returns the code's length, or 0.
size_t enhanced_code_length(std::string_view text, char reply_class) {
  if (text.size() < 5 || text[0] != reply_class || text[1] != '.') {
    return 0;
  }
  size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    size_t start = i;
    while (i < text.size() && is_digit(text[i]) && i - start < 3) {
      ++i;
    }
    if (i == start || (i < text.size() && is_digit(text[i]))) {
      return 0;
    }
    if (part == 0) {
      if (i >= text.size() || text[i] != '.') {
        return 0;
      }
      ++i;
    }
  }
  if (i < text.size() && text[i] != ' ') {
    return 0;
  }
  return i;
}

std::string_view strip_enhanced(std::string_view text, std::string_view enhanced) {
  if (!enhanced.empty() && text.substr(0, enhanced.size()) == enhanced &&
      (text.size() == enhanced.size() || text[enhanced.size()] == ' ')) {
    text.remove_prefix(enhanced.size());
    if (!text.empty()) {
      text.remove_prefix(1);
    }
  }
  return text;
}

}  // namespace

ReplyParser::Status ReplyParser::feed(std::string_view line) {
  if (failed_) {
    return Status::Malformed;
  }
  bytes_ += line.size() + 2;
  bool code_ok = line.size() >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' &&
                 line[1] <= '5' && is_digit(line[2]);
  // After the code: '-' (more), ' ' (last), or nothing (last, bare code: tolerated).
  bool sep_ok = code_ok && (line.size() == 3 || line[3] == '-' || line[3] == ' ');
  if (!sep_ok || bytes_ > kMaxReplyBytes) {
    failed_ = true;
    return Status::Malformed;
  }
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  if (!started_) {
    started_ = true;
    reply_ = Reply();
    reply_.code = code;
    reply_.lines.clear();
    size_t n = enhanced_code_length(text, line[0]);
    if (n > 0) {
      reply_.enhanced = std::string(text.substr(0, n));
    }
  } else if (code != reply_.code) {
    // RFC 5321 §4.2.1: every line of a multiline reply carries the same code.
    failed_ = true;
    return Status::Malformed;
  }
  reply_.lines.emplace_back(strip_enhanced(text, reply_.enhanced));
  return line.size() > 3 && line[3] == '-' ? Status::More : Status::Done;
}

Reply ReplyParser::take() {
  Reply out = std::move(reply_);
  reset();
  return out;
}

void ReplyParser::reset() {
  reply_ = Reply();
  bytes_ = 0;
  started_ = false;
  failed_ = false;
}

EhloInfo parse_ehlo(const Reply& reply) {
  EhloInfo info;
  if (reply.code != 250) {
    return info;
  }
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::string_view line = reply.lines[i];
    size_t sp = line.find_first_of(" =");
    std::string keyword = to_upper(line.substr(0, sp));
    std::string_view params =
        sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    if (keyword == "PIPELINING") {
      info.pipelining = true;
    } else if (keyword == "STARTTLS") {
      info.starttls = true;
    } else if (keyword == "SMTPUTF8") {
      info.smtputf8 = true;
    } else if (keyword == "8BITMIME") {
      info.eightbitmime = true;
    } else if (keyword == "ENHANCEDSTATUSCODES") {
      info.enhanced_codes = true;
    } else if (keyword == "CHUNKING") {
      info.chunking = true;
    } else if (keyword == "DSN") {
      info.dsn = true;
    } else if (keyword == "REQUIRETLS") {
      info.requiretls = true;
    } else if (keyword == "SIZE") {
      uint64_t n = 0;
      bool ok = !params.empty() && params.size() <= 20;
      for (char c : params) {
        if (!is_digit(c) || n > (std::numeric_limits<uint64_t>::max() - 9) / 10) {
          ok = false;
          break;
        }
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      info.size = ok ? n : 0;
    } else if (keyword == "AUTH") {
      while (!params.empty()) {
        size_t end = params.find(' ');
        std::string mech = to_upper(params.substr(0, end));
        if (!mech.empty()) {
          bool seen = false;
          for (const std::string& m : info.auth) {
            seen = seen || m == mech;
          }
          if (!seen) {
            info.auth.push_back(std::move(mech));
          }
        }
        params = end == std::string_view::npos ? std::string_view() : params.substr(end + 1);
      }
    }
  }
  return info;
}

}  // namespace hk::smtp

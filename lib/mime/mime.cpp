// Bodies (RFC 2045-2046): the MIME tree walked within Limits, transfer encodings undone, the
// text and HTML bodies chosen and converted to UTF-8, everything else kept as attachments and
// inline parts.
//
// SECURITY: hostile input. The walk recurses at most Limits::max_depth (itself capped) levels;
// each level reads its bytes once, so the work is O(depth x size); parts and problems are
// counted and capped; nothing throws out of parse().
#include "lib/mime/mime.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/ascii.hpp"
#include "lib/base/text.hpp"
#include "lib/mime/detail.hpp"

namespace hk::mime {

namespace {

constexpr size_t kMaxProblems = 50;
// Whatever the caller's Limits say, the stack stays small.
constexpr size_t kDepthCap = 64;

const Header* find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (base::iequals(h.name, name)) {
      return &h;
    }
  }
  return nullptr;
}

// The body parts between the delimiter lines of `boundary` (RFC 2046 §5.1.1): the CRLF before a
// delimiter belongs to it, transport padding after it is allowed, the preamble and epilogue are
// dropped. `closed` says whether the close-delimiter was seen. At most `cap` parts.
std::vector<std::string_view> split_multipart(std::string_view body, std::string_view boundary,
                                              size_t cap, bool& closed, bool& capped) {
  std::vector<std::string_view> parts;
  closed = false;
  capped = false;
  std::string delim = "--" + std::string(boundary);
  bool in_part = false;
  size_t part_start = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t lf = body.find('\n', pos);
    size_t next = lf == std::string_view::npos ? body.size() : lf + 1;
    std::string_view line = body.substr(pos, next - pos);
    if (line.starts_with(delim)) {
      std::string_view rest = line.substr(delim.size());
      bool close = rest.starts_with("--");
      if (close) {
        rest.remove_prefix(2);
      }
      if (base::trim(rest, " \t\r\n").empty()) {
        if (in_part) {
          size_t end = pos;
          if (end > part_start && body[end - 1] == '\n') {
            --end;
            if (end > part_start && body[end - 1] == '\r') {
              --end;
            }
          }
          if (parts.size() >= cap) {
            capped = true;
            return parts;
          }
          parts.push_back(body.substr(part_start, end - part_start));
        }
        if (close) {
          closed = true;
          return parts;
        }
        in_part = true;
        part_start = next;
      }
    }
    pos = next;
  }
  if (in_part) {
    if (parts.size() >= cap) {
      capped = true;
    } else {
      parts.push_back(body.substr(std::min(part_start, body.size())));
    }
  }
  return parts;
}

// <meta charset="..."> or <meta http-equiv=... content="...; charset=...">, within the first
// 2 KiB of an HTML body whose Content-Type names no charset.
std::string sniff_html_charset(std::string_view html) {
  std::string head = base::to_lower(html.substr(0, 2048));
  size_t p = head.find("charset=");
  if (p == std::string::npos) {
    return "";
  }
  p += 8;
  while (p < head.size() && (head[p] == '"' || head[p] == '\'' || head[p] == ' ')) {
    ++p;
  }
  size_t e = p;
  while (e < head.size() && (base::is_alnum(head[e]) || head[e] == '-' || head[e] == '_' ||
                             head[e] == '.' || head[e] == ':')) {
    ++e;
  }
  return head.substr(p, e - p);
}

// A byte order mark that Windows tools put before UTF-8 text says nothing to a reader of UTF-8.
std::string without_bom(std::string s) {
  if (s.starts_with("\xEF\xBB\xBF")) {
    s.erase(0, 3);
  }
  return s;
}

class Walker {
 public:
  Walker(Message& m, const Limits& limits)
      : m_(m), max_depth_(std::min(limits.max_depth, kDepthCap)), max_parts_(limits.max_parts) {}

  void problem(const std::string& what) {
    if (m_.problems.size() < kMaxProblems) {
      m_.problems.push_back(detail::fix_utf8(what.substr(0, 300)));  // quotes the input
    }
  }

  void walk(const std::vector<Header>& headers, std::string_view body, const std::string& id,
            size_t depth, std::string_view default_type, std::string_view parent_subtype) {
    if (++nodes_ > 4 * max_parts_ + 4) {
      note_too_many();
      return;
    }
    const Header* ct_header = find_header(headers, "Content-Type");
    detail::FieldWithParams ct =
        detail::parse_field_with_params(ct_header != nullptr ? ct_header->raw : "");
    if (ct.value.empty()) {
      ct.value = std::string(default_type);
      if (default_type == "text/plain" && ct.param("charset") == nullptr) {
        ct.params.push_back({"charset", "us-ascii"});
      }
    } else if (size_t slash = ct.value.find('/');
               slash == std::string::npos || slash == 0 || slash + 1 == ct.value.size()) {
      // RFC 2045 §5.2: an unreadable Content-Type means text/plain; charset=us-ascii.
      problem("part " + label(id) + ": Content-Type " + ct.value + " is not type/subtype");
      ct = detail::FieldWithParams{"text/plain", {}};
    }
    if (ct.value.starts_with("multipart/")) {
      multipart(headers, body, id, depth, ct);
      return;
    }
    leaf(headers, body, id.empty() ? "1" : id, ct, parent_subtype);
  }

 private:
  static std::string label(const std::string& id) { return id.empty() ? "body" : id; }

  void note_too_many() {
    if (!too_many_noted_) {
      too_many_noted_ = true;
      problem("more than " + std::to_string(max_parts_) + " parts: the rest are ignored");
    }
  }

  void multipart(const std::vector<Header>& headers, std::string_view body, const std::string& id,
                 size_t depth, const detail::FieldWithParams& ct) {
    const std::string* boundary = ct.param("boundary");
    if (depth >= max_depth_) {
      problem("part " + label(id) + ": multipart nested deeper than " + std::to_string(max_depth_) +
              " levels, kept whole");
      leaf(headers, body, id.empty() ? "1" : id, ct, "", true);
      return;
    }
    if (boundary == nullptr || boundary->empty()) {
      problem("part " + label(id) + ": " + ct.value + " without a boundary, read as text");
      leaf(headers, body, id.empty() ? "1" : id, detail::FieldWithParams{"text/plain", {}}, "");
      return;
    }
    bool closed = false;
    bool capped = false;
    size_t room = max_parts_ + 1 - std::min(max_parts_, leaves_);
    std::vector<std::string_view> parts = split_multipart(body, *boundary, room, closed, capped);
    if (parts.empty() && !closed) {
      problem("part " + label(id) + ": no boundary line in " + ct.value + ", read as text");
      leaf(headers, body, id.empty() ? "1" : id, detail::FieldWithParams{"text/plain", {}}, "");
      return;
    }
    if (!closed && !capped) {
      problem("part " + label(id) + ": " + ct.value + " has no final boundary");
    }
    std::string_view subtype = std::string_view(ct.value).substr(10);
    std::string_view child_default = subtype == "digest" ? "message/rfc822" : "text/plain";
    for (size_t k = 0; k < parts.size(); ++k) {
      std::string child_id = (id.empty() ? "" : id + ".") + std::to_string(k + 1);
      size_t body_start = 0;
      bool malformed = false;
      std::vector<Header> child_headers =
          detail::parse_header_block(parts[k], body_start, malformed);
      if (malformed && !child_headers.empty()) {
        problem("part " + child_id + ": a line that is not a header field ends its header");
      }
      walk(child_headers, parts[k].substr(std::min(body_start, parts[k].size())), child_id,
           depth + 1, child_default, subtype);
    }
    if (capped) {
      note_too_many();
    }
  }

  void leaf(const std::vector<Header>& headers, std::string_view body, const std::string& id,
            const detail::FieldWithParams& ct, std::string_view parent_subtype,
            bool opaque = false) {
    if (++leaves_ > max_parts_) {
      note_too_many();
      return;
    }
    std::string data;
    const Header* cte_header = find_header(headers, "Content-Transfer-Encoding");
    std::string cte =
        cte_header == nullptr
            ? std::string()
            : base::to_lower(base::trim(detail::strip_comments(cte_header->raw), " \t\r\n\""));
    if (opaque) {
      data = std::string(body);
    } else if (cte == "base64") {
      data = detail::decode_base64(body);
    } else if (cte == "quoted-printable") {
      data = detail::decode_quoted_printable(body);
    } else {
      if (!cte.empty() && cte != "7bit" && cte != "8bit" && cte != "binary") {
        problem("part " + id + ": unknown Content-Transfer-Encoding " + cte + ", kept as is");
      }
      data = std::string(body);
    }
    const Header* cd_header = find_header(headers, "Content-Disposition");
    detail::FieldWithParams cd =
        detail::parse_field_with_params(cd_header != nullptr ? cd_header->raw : "");
    std::string filename;
    if (const std::string* f = cd.param("filename"); f != nullptr) {
      filename = *f;
    } else if (const std::string* n = ct.param("name"); n != nullptr) {
      filename = *n;
    }
    std::string content_id;
    if (const Header* cid = find_header(headers, "Content-ID"); cid != nullptr) {
      content_id = std::string(base::trim(detail::strip_comments(cid->raw), " \t\r\n<>"));
    }
    bool attachment = cd.value == "attachment";
    bool is_inline = cd.value == "inline" || (cd.value.empty() && !content_id.empty());

    // The text and HTML bodies: the first text/plain and text/html that are not attachments.
    // Later ones outside a multipart/alternative (a list footer, Apple Mail's text between
    // images) are appended; another alternative is kept as a part.
    bool body_candidate = !opaque && !attachment && filename.empty();
    bool appendable = parent_subtype != "alternative";
    if (body_candidate && ct.value == "text/plain" && (!have_text_ || appendable)) {
      const std::string* charset = ct.param("charset");
      std::string text = without_bom(to_utf8(data, charset != nullptr ? *charset : ""));
      if (have_text_ && !m_.text.empty() && !text.empty()) {
        m_.text += "\n";
      }
      m_.text += text;
      have_text_ = true;
      return;
    }
    if (body_candidate && ct.value == "text/html" && (!have_html_ || appendable)) {
      const std::string* charset = ct.param("charset");
      std::string cs = charset != nullptr ? *charset : sniff_html_charset(data);
      m_.html += without_bom(to_utf8(data, cs));
      have_html_ = true;
      return;
    }
    Part part;
    part.part_id = id;
    part.content_type = detail::fix_utf8(ct.value);
    part.filename = std::move(filename);
    part.content_id = detail::fix_utf8(content_id);
    part.inline_disposition = is_inline && !attachment;
    part.data = std::move(data);
    if (part.inline_disposition) {
      m_.inlines.push_back(std::move(part));
    } else {
      m_.attachments.push_back(std::move(part));
    }
  }

  Message& m_;
  size_t max_depth_;
  size_t max_parts_;
  size_t leaves_ = 0;
  size_t nodes_ = 0;
  bool too_many_noted_ = false;
  bool have_text_ = false;
  bool have_html_ = false;
};

}  // namespace

Message parse(std::string_view raw, const Limits& limits) {
  Message m;
  try {
    size_t body_start = 0;
    bool malformed = false;
    m.headers = detail::parse_header_block(raw, body_start, malformed);
    Walker walker(m, limits);
    if (malformed) {
      walker.problem("header section: a line that is not a header field ends it");
    }
    walker.walk(m.headers, raw.substr(std::min(body_start, raw.size())), "", 0, "text/plain", "");
  } catch (const std::exception& e) {
    // Only allocation can fail here; what was read so far is kept.
    if (m.problems.size() < kMaxProblems) {
      m.problems.push_back(std::string("reading stopped: ") + e.what());
    }
  }
  return m;
}

}  // namespace hk::mime

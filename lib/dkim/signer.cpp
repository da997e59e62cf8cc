// DKIM signing (RFC 6376 §3.4 canonicalization, §3.5 tags, §3.7 hashes, §5.4 header selection)
// with keys parsed once. The message is split and its body hashed once per message, whatever the
// number of keys; each key then costs one header hash and one signature.
#include "lib/dkim/signer.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <span>
#include <stdexcept>

#include "lib/base/ascii.hpp"
#include "lib/base/base64.hpp"
#include "lib/base/openssl.hpp"

namespace hk::dkim {

const char* const kSignedHeaders[] = {
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "reply-to",
    nullptr,
};

namespace {

using base::EvpPkeyCtxPtr;
using base::openssl_error;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, base::Free<EVP_MD_CTX_free>>;

constexpr std::string_view kSignatureHeader = "DKIM-Signature: ";
constexpr size_t kMaxLine = 78;             // RFC 5322 §2.1.1
constexpr size_t kDigestFlush = 64 * 1024;  // canonical body bytes buffered before hashing
constexpr size_t kSha256Size = 32;

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

using base::to_lower;

bool is_signed(std::string_view lower_name) {
  for (const char* const* h = kSignedHeaders; *h != nullptr; ++h) {
    if (lower_name == *h) {
      return true;
    }
  }
  return false;
}

struct Field {
  std::string_view text;  // "Name: value" with folding, without the final line end
  std::string name;       // lower case, for matching
};

// Header fields in order and the body (RFC 5322 §2.1, §2.2.3), for CRLF or LF line ends.
std::vector<Field> split_fields(std::string_view message, std::string_view& body) {
  std::vector<Field> fields;
  size_t pos = 0;
  body = {};
  while (pos < message.size()) {
    size_t nl = message.find('\n', pos);
    size_t end = nl == std::string_view::npos ? message.size() : nl;
    size_t next = nl == std::string_view::npos ? message.size() : nl + 1;
    size_t content_end = end > pos && message[end - 1] == '\r' ? end - 1 : end;
    if (content_end == pos) {
      body = message.substr(next);  // the empty line that ends the header section
      return fields;
    }
    if (is_wsp(message[pos]) && !fields.empty()) {
      Field& last = fields.back();
      // The field being continued starts inside `message`, before `pos`.
      size_t start = static_cast<size_t>(last.text.data() - message.data());
      last.text = message.substr(start, content_end - start);
    } else {
      Field field;
      field.text = message.substr(pos, content_end - pos);
      size_t colon = field.text.find(':');
      std::string_view name = field.text.substr(0, colon);
      while (!name.empty() && is_wsp(name.back())) {
        name.remove_suffix(1);
      }
      for (char c : name) {
        field.name += to_lower(c);
      }
      if (colon == std::string_view::npos) {
        field.name.clear();  // not a header field: never signed
      }
      fields.push_back(std::move(field));
    }
    pos = next;
  }
  return fields;
}

// Adds the tag-spec `text` to a header being folded at kMaxLine, after a space or on a new line.
void add_tag(std::string& out, size_t& line_len, std::string_view text) {
  if (line_len + 1 + text.size() > kMaxLine) {
    out += "\r\n\t";
    line_len = 1;
  } else {
    out += ' ';
    ++line_len;
  }
  out += text;
  line_len += text.size();
}

}  // namespace

std::string relaxed_header(std::string_view field) {
  std::string out;
  out.reserve(field.size() + 2);
  size_t colon = field.find(':');
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) {
    name.remove_suffix(1);
  }
  for (char c : name) {
    out += to_lower(c);
  }
  out += ':';
  size_t value_start = out.size();
  bool space = false;
  if (colon != std::string_view::npos) {
    for (char c : field.substr(colon + 1)) {
      if (c == '\r' || c == '\n') {
        continue;  // unfolding (§3.4.2 "Unfold all header field continuation lines")
      }
      if (is_wsp(c)) {
        space = true;
        continue;
      }
      if (space && out.size() > value_start) {
        out += ' ';
      }
      space = false;
      out += c;
    }
  }
  out += "\r\n";
  return out;
}

std::string relaxed_body(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  BodyCanon canon;
  canon.feed(body, out);
  canon.finish(out);
  return out;
}

void BodyCanon::text(std::string_view t, std::string& out) {
  if (!content_) {
    for (; blank_lines_ > 0; --blank_lines_) {
      out += "\r\n";  // empty lines inside the body are kept
    }
    content_ = true;
  }
  if (wsp_) {
    out += ' ';  // a run of WSP becomes one SP (§3.4.4 b)
    wsp_ = false;
  }
  out.append(t);
}

void BodyCanon::end_line(std::string& out) {
  if (content_) {
    out += "\r\n";  // WSP at the end of the line is dropped (§3.4.4 a)
  } else {
    ++blank_lines_;  // a blank line counts only once something follows it (§3.4.4 c)
  }
  content_ = false;
  wsp_ = false;
}

void BodyCanon::feed(std::string_view piece, std::string& out) {
  const char* p = piece.data();
  const size_t n = piece.size();
  size_t i = 0;
  while (i < n) {
    char c = p[i];
    if (cr_) {
      cr_ = false;
      if (c == '\n') {
        end_line(out);
        ++i;
        continue;
      }
      text("\r", out);  // a CR not before LF is text; c is handled below
    }
    if (c == '\r') {
      cr_ = true;
      ++i;
    } else if (c == '\n') {
      end_line(out);  // a bare LF ends a line too (messages from stdin)
      ++i;
    } else if (is_wsp(c)) {
      wsp_ = true;
      ++i;
    } else {
      size_t j = i + 1;
      while (j < n && p[j] != '\r' && p[j] != '\n' && !is_wsp(p[j])) {
        ++j;
      }
      text(std::string_view(p + i, j - i), out);
      i = j;
    }
  }
}

void BodyCanon::finish(std::string& out) {
  if (cr_) {
    cr_ = false;
    text("\r", out);
  }
  if (content_) {
    out += "\r\n";
  }
  content_ = false;
  wsp_ = false;
  blank_lines_ = 0;
}

BodyHasher::BodyHasher(const EVP_MD* sha256) : md_(EVP_MD_CTX_new()) {
  ok_ = md_ != nullptr && EVP_DigestInit_ex(md_.get(), sha256, nullptr) == 1;
}

void BodyHasher::update(std::string_view piece) {
  if (!ok_) {
    return;
  }
  // Hashed in pieces of about kDigestFlush, so that a large body never lives twice in memory.
  while (!piece.empty()) {
    std::string_view part = piece.substr(0, kDigestFlush);
    piece.remove_prefix(part.size());
    canon_.feed(part, buffer_);
    if (buffer_.size() >= kDigestFlush) {
      ok_ = EVP_DigestUpdate(md_.get(), buffer_.data(), buffer_.size()) == 1;
      buffer_.clear();
    }
  }
}

std::optional<std::string> BodyHasher::finish(std::string& error) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (ok_) {
    canon_.finish(buffer_);
    ok_ = EVP_DigestUpdate(md_.get(), buffer_.data(), buffer_.size()) == 1 &&
          EVP_DigestFinal_ex(md_.get(), digest.data(), &digest_len) == 1;
  }
  if (!ok_) {
    error = "body hash: " + openssl_error();
    return std::nullopt;
  }
  return base::base64_encode(std::span(digest.data(), digest_len));
}

struct DkimSigner::Prepared {
  std::string error;        // set when the message cannot be signed at all
  std::string h_tag;        // "from:to:...:from"
  std::string header_data;  // the canonical fields h= names, in h= order (§5.4.2)
  std::string body_hash;    // bh= value
};

DkimSigner::DkimSigner(std::time_t fixed_time)
    : fixed_time_(fixed_time), sha256_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
  if (sha256_ == nullptr) {
    throw std::runtime_error("OpenSSL has no SHA-256: " + openssl_error());
  }
}

DkimSigner::~DkimSigner() { EVP_MD_free(sha256_); }

DkimSigner::Prepared DkimSigner::prepare(std::string_view message) const {
  std::string_view body;
  split_fields(message, body);
  Prepared p = prepare_headers(message.substr(0, message.size() - body.size()));
  if (!p.error.empty()) {
    return p;
  }
  BodyHasher hasher = body_hasher();
  hasher.update(body);
  if (auto bh = hasher.finish(p.error)) {
    p.body_hash = std::move(*bh);
  }
  return p;
}

DkimSigner::Prepared DkimSigner::prepare_headers(std::string_view header_section) const {
  Prepared p;
  std::string_view body;
  std::vector<Field> fields = split_fields(header_section, body);

  // h=: every signed field present, in message order, then "from" once more (over-signing).
  std::vector<std::string_view> names;
  bool has_from = false;
  for (const Field& f : fields) {
    if (is_signed(f.name)) {
      names.emplace_back(f.name);
      has_from = has_from || f.name == "from";
    }
  }
  if (!has_from) {
    p.error = "the message has no From: header field (RFC 6376 §5.4 requires signing it)";
    return p;
  }
  names.emplace_back("from");
  // Each name takes the last instance not yet used, searching from the bottom (§5.4.2); a name
  // with no instance left adds nothing, which is what makes the extra "from" an over-sign.
  std::vector<bool> used(fields.size(), false);
  for (std::string_view name : names) {
    if (!p.h_tag.empty()) {
      p.h_tag += ':';
    }
    p.h_tag += name;
    for (size_t i = fields.size(); i-- > 0;) {
      if (!used[i] && fields[i].name == name) {
        used[i] = true;
        p.header_data += relaxed_header(fields[i].text);
        break;
      }
    }
  }

  return p;
}

std::optional<std::string> DkimSigner::sign_prepared(const Prepared& p, const DkimKey& key,
                                                     std::string& error) const {
  if (!p.error.empty()) {
    error = p.error;
    return std::nullopt;
  }
  if (!key.pkey) {
    error = "no private key loaded";
    return std::nullopt;
  }
  bool ed25519 = key.algo == DkimAlgo::Ed25519;
  std::time_t now = fixed_time_ != 0 ? fixed_time_ : std::time(nullptr);

  // The header up to "b=", folded as it will be sent: its relaxed form with an empty b= is the
  // last thing hashed (§3.7), so the signed text and the sent text must be the same.
  std::string header(kSignatureHeader);
  size_t line_len = header.size() - 1;  // add_tag adds the space after the colon
  header.pop_back();
  add_tag(header, line_len, "v=1;");
  add_tag(header, line_len, ed25519 ? "a=ed25519-sha256;" : "a=rsa-sha256;");
  add_tag(header, line_len, "c=relaxed/relaxed;");
  add_tag(header, line_len, "d=" + key.domain + ";");
  add_tag(header, line_len, "s=" + key.selector + ";");
  add_tag(header, line_len, "t=" + std::to_string(now) + ";");
  // h= folds after a colon (FWS is allowed there, §3.5) when it does not fit on one line.
  std::string h = "h=" + p.h_tag + ";";
  if (h.size() + 2 <= kMaxLine) {
    add_tag(header, line_len, h);
  } else {
    header += "\r\n\th=";
    line_len = 3;
    size_t start = 0;
    while (start < p.h_tag.size()) {
      size_t colon = p.h_tag.find(':', start);
      size_t end = colon == std::string::npos ? p.h_tag.size() : colon + 1;
      std::string_view piece(p.h_tag.data() + start, end - start);
      if (line_len + piece.size() + 1 > kMaxLine) {
        header += "\r\n\t";
        line_len = 1;
      }
      header += piece;
      line_len += piece.size();
      start = end;
    }
    header += ';';
    ++line_len;
  }
  add_tag(header, line_len, "bh=" + p.body_hash + ";");
  header += "\r\n\tb=";

  std::string canon_sig = relaxed_header(header);
  canon_sig.resize(canon_sig.size() - 2);  // the DKIM-Signature field is hashed without CRLF

  EvpMdCtxPtr md(EVP_MD_CTX_new());
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (!md || EVP_DigestInit_ex(md.get(), sha256_, nullptr) != 1 ||
      EVP_DigestUpdate(md.get(), p.header_data.data(), p.header_data.size()) != 1 ||
      EVP_DigestUpdate(md.get(), canon_sig.data(), canon_sig.size()) != 1 ||
      EVP_DigestFinal_ex(md.get(), digest.data(), &digest_len) != 1 || digest_len != kSha256Size) {
    error = "header hash: " + openssl_error();
    return std::nullopt;
  }

  std::string signature(static_cast<size_t>(EVP_PKEY_get_size(key.pkey.get())), '\0');
  size_t sig_len = signature.size();
  auto* out = reinterpret_cast<unsigned char*>(signature.data());
  if (ed25519) {
    // RFC 8463 §3: PureEdDSA over the SHA-256 hash of the canonical data.
    EvpMdCtxPtr sign_ctx(EVP_MD_CTX_new());
    if (!sign_ctx ||
        EVP_DigestSignInit_ex(sign_ctx.get(), nullptr, nullptr, nullptr, nullptr, key.pkey.get(),
                              nullptr) != 1 ||
        EVP_DigestSign(sign_ctx.get(), out, &sig_len, digest.data(), digest_len) != 1) {
      error = "Ed25519 signature: " + openssl_error();
      return std::nullopt;
    }
  } else {
    // RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6376 §3.3.1) over the digest made above.
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey.get(), nullptr));
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), sha256_) != 1 ||
        EVP_PKEY_sign(ctx.get(), out, &sig_len, digest.data(), digest_len) != 1) {
      error = "RSA signature: " + openssl_error();
      return std::nullopt;
    }
  }
  std::string b = base::base64_encode(std::span(out, sig_len));

  // b= continues the "\tb=" line, then fills whole lines.
  line_len = 3;
  for (size_t i = 0; i < b.size();) {
    size_t room = kMaxLine - line_len;
    size_t take = std::min(room, b.size() - i);
    header.append(b, i, take);
    i += take;
    if (i < b.size()) {
      header += "\r\n\t";
      line_len = 1;
    }
  }
  header += "\r\n";
  return header;
}

std::optional<std::string> DkimSigner::sign(std::string_view message, const DkimKey& key,
                                            std::string& error) const {
  return sign_prepared(prepare(message), key, error);
}

std::string DkimSigner::sign_each(const Prepared& prepared, const std::vector<DkimKey>& keys,
                                  std::vector<std::string>& errors) const {
  std::string headers;
  for (const DkimKey& key : keys) {
    std::string error;
    if (auto header = sign_prepared(prepared, key, error)) {
      headers += *header;
    } else {
      errors.push_back(key.selector + ": " + error);
    }
  }
  return headers;
}

std::string DkimSigner::sign_all(std::string_view message, const std::vector<DkimKey>& keys,
                                 std::vector<std::string>& errors) const {
  return keys.empty() ? std::string() : sign_each(prepare(message), keys, errors);
}

std::string DkimSigner::sign_all_hashed(std::string_view header_section,
                                        const std::string& body_hash,
                                        const std::vector<DkimKey>& keys,
                                        std::vector<std::string>& errors) const {
  if (keys.empty()) {
    return std::string();
  }
  Prepared prepared = prepare_headers(header_section);
  prepared.body_hash = body_hash;
  return sign_each(prepared, keys, errors);
}

std::string sign_all(const DkimSigner& signer, std::string_view message,
                     const std::vector<DkimKey>& keys, std::vector<std::string>& errors) {
  return signer.sign_all(message, keys, errors);
}

}  // namespace hk::dkim

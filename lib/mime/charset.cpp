// Charset conversion to UTF-8 (RFC 2046 §4.1.2 charset parameter, RFC 2047 §3 charset of an
// encoded word) through glibc's iconv, with the aliases real mail uses and a Latin-1 reading for
// everything else.
//
// SECURITY: the charset name comes from the message. Only names of letters, digits and ".:_-"
// (at most 40) reach iconv_open, so a name can never be a path or carry "//" suffixes, and we
// only ever decode (to UTF-8), never encode into a message's charset.
#include <iconv.h>

#include <array>
#include <cerrno>
#include <string>
#include <string_view>

#include "lib/base/ascii.hpp"
#include "lib/base/text.hpp"
#include "lib/base/utf8.hpp"
#include "lib/mime/detail.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {

namespace detail {

void append_utf8(std::string& out, unsigned long cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    cp = 0xFFFD;
  }
  auto put = [&](unsigned long v) { out += static_cast<char>(static_cast<unsigned char>(v)); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
}

namespace {

// windows-1252's 0x80..0x9F (WHATWG Encoding: what "iso-8859-1" and "us-ascii" labels mean in
// practice); 0 where it has no character, and then the Latin-1 C1 control is used.
constexpr std::array<unsigned short, 32> kCp1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void append_cp1252(std::string& out, unsigned char b) {
  unsigned long cp = b;
  if (b >= 0x80 && b <= 0x9F && kCp1252High[b - 0x80U] != 0) {
    cp = kCp1252High[b - 0x80U];
  }
  append_utf8(out, cp);
}

std::string cp1252_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    append_cp1252(out, static_cast<unsigned char>(c));
  }
  return out;
}

enum class Kind { Utf8, Ascii, Cp1252, Iso2022Jp, Iconv };

struct Charset {
  Kind kind;
  std::string iconv_name;
};

bool safe_name(std::string_view name) {
  if (name.empty() || name.size() > 40) {
    return false;
  }
  for (char c : name) {
    if (!base::is_alnum(c) && c != '-' && c != '_' && c != '.' && c != ':') {
      return false;
    }
  }
  return true;
}

// The label as written (any case, quotes, "*lang" of RFC 2231 §5) → how to read it.
Charset classify(std::string_view label) {
  std::string name = base::to_lower(base::trim(label, " \t\"'"));
  if (size_t star = name.find('*'); star != std::string::npos) {
    name.resize(star);
  }
  if (name == "utf-8" || name == "utf8" || name == "x-utf-8") {
    return {Kind::Utf8, ""};
  }
  if (name.empty() || name == "us-ascii" || name == "ascii" || name == "ansi_x3.4-1968" ||
      name == "us" || name == "646" || name == "iso646-us" || name == "default" ||
      name == "unknown-8bit" || name == "x-unknown" || name == "unknown") {
    return {Kind::Ascii, ""};
  }
  if (name == "iso-8859-1" || name == "iso8859-1" || name == "iso_8859-1" || name == "latin1" ||
      name == "latin-1" || name == "l1" || name == "windows-1252" || name == "cp1252" ||
      name == "x-cp1252" || name == "cp819" || name == "iso-ir-100") {
    return {Kind::Cp1252, ""};
  }
  // Supersets that decode what the smaller label's senders actually put in (WHATWG Encoding).
  if (name == "gb2312" || name == "gbk" || name == "x-gbk" || name == "cp936" || name == "euc-cn" ||
      name == "csgb2312" || name == "chinese" || name == "gb_2312-80" || name == "x-euc-cn") {
    return {Kind::Iconv, "GB18030"};
  }
  if (name == "shift_jis" || name == "shift-jis" || name == "sjis" || name == "x-sjis" ||
      name == "ms_kanji" || name == "windows-31j" || name == "cp932" || name == "csshiftjis" ||
      name == "x-ms-cp932") {
    return {Kind::Iconv, "CP932"};
  }
  if (name == "iso-2022-jp" || name == "csiso2022jp" || name == "cp50220" || name == "cp50221" ||
      name == "cp50222") {
    return {Kind::Iso2022Jp, "ISO-2022-JP-3"};
  }
  if (name == "ks_c_5601-1987" || name == "euc-kr" || name == "korean" || name == "ks_c_5601" ||
      name == "ksc5601" || name == "windows-949" || name == "cp949") {
    return {Kind::Iconv, "CP949"};
  }
  if (name == "big5" || name == "x-big5" || name == "big5-hkscs" || name == "cn-big5") {
    return {Kind::Iconv, "BIG5-HKSCS"};
  }
  if (name == "iso-8859-8-i" || name == "logical") {
    return {Kind::Iconv, "ISO-8859-8"};
  }
  if (name == "unicode-1-1-utf-7" || name == "x-utf-7") {
    return {Kind::Iconv, "UTF-7"};
  }
  if (name == "windows-874" || name == "tis-620") {
    return {Kind::Iconv, "CP874"};
  }
  if (name.starts_with("windows-125") && name.size() == 12) {
    return {Kind::Iconv, "CP125" + name.substr(11)};
  }
  if (name.starts_with("x-mac-") || name == "macintosh" || name == "mac") {
    return {Kind::Iconv, "MACINTOSH"};
  }
  if (!safe_name(name)) {
    return {Kind::Ascii, ""};
  }
  return {Kind::Iconv, base::to_upper(name)};
}

// Converts with iconv; false when iconv does not know the charset. A byte sequence the charset
// does not define becomes U+FFFD and the conversion goes on after it.
bool iconv_to_utf8(std::string_view bytes, const std::string& from, std::string& out) {
  iconv_t cd = iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return false;
  }
  out.clear();
  out.reserve(bytes.size() + bytes.size() / 2);
  std::array<char, 4096> buf;
  // iconv's interface takes char** for input it does not modify.
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  bool finishing = false;
  for (;;) {
    char* o = buf.data();
    size_t o_left = buf.size();
    size_t rc = finishing ? iconv(cd, nullptr, nullptr, &o, &o_left)
                          : iconv(cd, &in, &in_left, &o, &o_left);
    int err = errno;
    out.append(buf.data(), static_cast<size_t>(o - buf.data()));
    if (rc != static_cast<size_t>(-1)) {
      if (finishing) {
        break;
      }
      finishing = true;  // flush a stateful decoder's shift state
      continue;
    }
    if (err == E2BIG) {
      continue;
    }
    if (err == EILSEQ && in_left > 0) {
      append_utf8(out, 0xFFFD);
      ++in;
      --in_left;
      continue;
    }
    // EINVAL: an incomplete sequence at the end; anything else: give up on the rest.
    if (in_left > 0) {
      append_utf8(out, 0xFFFD);
    }
    break;
  }
  iconv_close(cd);
  return true;
}

// Charsets in which every ASCII byte means its ASCII character (unlike UTF-7, UTF-16, HZ, EBCDIC
// or the ISO-2022 family, whose ASCII bytes may be escapes or halves of characters).
bool ascii_compatible(const std::string& name) {
  for (std::string_view prefix : {"ISO-8859", "CP125", "KOI8", "GB18030", "CP932", "CP949", "BIG5",
                                  "EUC-", "CP874", "MACINTOSH"}) {
    if (name.starts_with(prefix)) {
      return true;
    }
  }
  return false;
}

// ISO-2022-JP (RFC 1468) rewritten as EUC-JP, for iconv's EUC-JP-MS: Japanese mailers send
// ISO-2022-JP with Microsoft's CP50221 additions (NEC row 13: ①, ㈱, Ⅰ; the IBM rows), which
// glibc's ISO-2022-JP decoders refuse and its EUC-JP-MS knows. False for an escape sequence this
// does not know (the caller then lets iconv's ISO-2022-JP-3 read it: JIS X 0213).
bool iso2022jp_to_eucjp(std::string_view in, std::string& out) {
  enum class Set { Ascii, Jis0208, Katakana, Jis0212 };
  Set set = Set::Ascii;
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    auto b = static_cast<unsigned char>(in[i]);
    if (b == 0x1B) {
      std::string_view esc = in.substr(i + 1, 3);
      if (esc.starts_with("(B") || esc.starts_with("(J")) {
        set = Set::Ascii;
        ++i;
      } else if (esc.starts_with("$@") || esc.starts_with("$B")) {
        set = Set::Jis0208;
        ++i;
      } else if (esc.starts_with("(I")) {
        set = Set::Katakana;
        ++i;
      } else if (esc == "$(D") {
        set = Set::Jis0212;
        i += 2;
      } else {
        return false;
      }
      ++i;
      continue;
    }
    if (b == 0x0E || b == 0x0F) {
      continue;  // SO/SI (CP50222's katakana shift): not used by the sets above
    }
    if (b < 0x21 || b > 0x7E || set == Set::Ascii) {
      out += static_cast<char>(b);  // controls, line ends, and ASCII
      continue;
    }
    if (set == Set::Katakana) {
      out += '\x8E';
      out += static_cast<char>(b | 0x80);
      continue;
    }
    if (i + 1 >= in.size()) {
      out += '?';
      break;
    }
    if (set == Set::Jis0212) {
      out += '\x8F';
    }
    out += static_cast<char>(b | 0x80);
    out += static_cast<char>(static_cast<unsigned char>(in[++i]) | 0x80);
  }
  return true;
}

}  // namespace

std::string fix_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    size_t n = base::utf8_sequence_length(bytes);
    if (n == 0) {
      append_cp1252(out, static_cast<unsigned char>(bytes[0]));
      n = 1;
    } else {
      out.append(bytes.substr(0, n));
    }
    bytes.remove_prefix(n);
  }
  return out;
}

}  // namespace detail

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  detail::Charset cs = detail::classify(charset);
  switch (cs.kind) {
    case detail::Kind::Utf8:
    case detail::Kind::Ascii:
      // Unlabelled or US-ASCII text with 8-bit bytes is UTF-8 when it is valid UTF-8 (what
      // mailers that forget the label send) and windows-1252 otherwise.
      return detail::fix_utf8(bytes);
    case detail::Kind::Cp1252:
      return detail::cp1252_to_utf8(bytes);
    case detail::Kind::Iso2022Jp: {
      // 8-bit bytes mean it is not ISO-2022-JP at all, only labelled so: UTF-8 or Shift_JIS.
      if (!base::all_ascii(bytes)) {
        return to_utf8(bytes, base::is_valid_utf8(bytes) ? "utf-8" : "cp932");
      }
      std::string euc;
      std::string out;
      if (detail::iso2022jp_to_eucjp(bytes, euc) && detail::iconv_to_utf8(euc, "EUC-JP-MS", out)) {
        return detail::fix_utf8(out);
      }
      break;
    }
    case detail::Kind::Iconv:
      break;
  }
  if (base::all_ascii(bytes) && detail::ascii_compatible(cs.iconv_name)) {
    return std::string(bytes);  // nothing to convert, and no iconv_open for it
  }
  std::string out;
  if (!detail::iconv_to_utf8(bytes, cs.iconv_name, out)) {
    return detail::fix_utf8(bytes);  // unknown charset: read as Latin-1 (UTF-8 when valid)
  }
  return detail::fix_utf8(out);  // iconv's output is UTF-8 already; this only guarantees it
}

}  // namespace hk::mime

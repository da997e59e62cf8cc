// The one tag=value list parser; see tag_value.hpp for the grammars it follows.
#include "lib/base/tag_value.hpp"

#include <algorithm>
#include <iterator>
#include <string>

#include "lib/base/ascii.hpp"
#include "lib/base/text.hpp"

namespace hk::base {
namespace {

constexpr std::string_view kFws = " \t\r\n";  // RFC 6376 §2.8 FWS, once unfolded or not
constexpr std::string_view kWsp = " \t";      // RFC 5234 WSP (RFC 8461 §3.1)

bool is_fws(char c) { return kFws.find(c) != std::string_view::npos; }

// RFC 6376 §3.2 tag-name = ALPHA *ALNUMPUNC, ALNUMPUNC = ALPHA / DIGIT / "_".
bool rfc6376_name(std::string_view n) {
  return !n.empty() && is_alpha(n.front()) &&
         std::all_of(n.begin(), n.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

// RFC 8461 §3.1 sts-ext-name.
bool rfc8461_name(std::string_view n) {
  return !n.empty() && n.size() <= 32 && is_alnum(n.front()) &&
         std::all_of(n.begin(), n.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

// RFC 6376 §3.2 tag-value: VALCHAR = %x21-3A / %x3C-7E, FWS only between them (already trimmed).
bool rfc6376_value(std::string_view v) {
  return std::all_of(v.begin(), v.end(),
                     [](char c) { return (c >= 0x21 && c <= 0x7E && c != ';') || is_fws(c); });
}

// RFC 8461 §3.1 sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E).
bool rfc8461_value(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return c >= 0x21 && c <= 0x7E && c != ';' && c != '=';
  });
}

}  // namespace

const std::string* TagList::find(std::string_view name) const {
  for (const Tag& t : tags) {
    if (t.name == name) {
      return &t.value;
    }
  }
  return nullptr;
}

TagList parse_tag_list(std::string_view text, const TagListSyntax& syntax) {
  const bool rfc6376 = syntax.grammar == TagGrammar::Rfc6376;
  const std::string_view space = rfc6376 ? kFws : kWsp;
  TagList out;
  auto fail = [&out](std::string why) {
    out.tags.clear();
    out.error = std::move(why);
    return out;
  };
  size_t index = 0;
  while (true) {
    size_t semi = text.find(';');
    std::string_view spec = trim(text.substr(0, semi), space);
    bool last = semi == std::string_view::npos;
    text = last ? std::string_view() : text.substr(semi + 1);
    ++index;
    size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      // tag-list = tag-spec *( ";" tag-spec ) [ ";" ]: only what follows the final ";" may be
      // empty.
      if (syntax.lenient || (spec.empty() && last && index > 1)) {
        if (last) {
          break;
        }
        continue;
      }
      return fail(spec.empty() ? "empty tag-spec " + std::to_string(index)
                               : "tag-spec " + std::to_string(index) + " has no \"=\"");
    }
    std::string_view name = spec.substr(0, eq);
    std::string_view value = spec.substr(eq + 1);
    if (rfc6376 || syntax.lenient) {
      name = trim(name, space);
      value = trim(value, space);
    }
    if (!syntax.lenient) {
      if (!(rfc6376 ? rfc6376_name(name) : rfc8461_name(name))) {
        return fail("bad tag name \"" + std::string(name) + "\"");
      }
      if (!(rfc6376 ? rfc6376_value(value) : rfc8461_value(value))) {
        return fail("bad value for tag \"" + std::string(name) + "\"");
      }
      if (!syntax.duplicates_allowed && out.find(name) != nullptr) {
        return fail("duplicate tag \"" + std::string(name) + "\"");
      }
    }
    Tag tag{std::string(name), {}};
    if (syntax.strip_value_whitespace) {
      std::copy_if(value.begin(), value.end(), std::back_inserter(tag.value),
                   [](char c) { return !is_fws(c); });
    } else {
      tag.value = std::string(value);
    }
    out.tags.push_back(std::move(tag));
    if (last) {
      break;
    }
  }
  return out;
}

}  // namespace hk::base

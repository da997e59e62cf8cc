// From: header address extraction and submission header fix-ups.
#include "daemon/server/message_checks.hpp"

#include <cctype>

#include "lib/base/ascii.hpp"
#include "lib/dkim/auth_results.hpp"

namespace hk::server {
namespace {

// Unfolded values of every header named `name` (case-insensitive, "From" matches "From:").
std::vector<std::string> header_values(std::string_view headers, std::string_view name) {
  std::vector<std::string> out;
  bool in_match = false;
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t eol = headers.find('\n', pos);
    std::string_view line =
        headers.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? headers.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (in_match) {
        out.back() += ' ';
        out.back() += line;
      }
      continue;
    }
    in_match = false;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view field = line.substr(0, colon);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) {
      field.remove_suffix(1);
    }
    if (base::iequals(field, name)) {
      in_match = true;
      out.emplace_back(line.substr(colon + 1));
    }
  }
  return out;
}

// Calls `field(name, unfolded_value, offset)` for every header field of `headers`, where offset is
// that of the field's first byte.
template <class Field>
void for_each_field(std::string_view headers, Field&& field) {
  std::string name, value;
  size_t start = std::string_view::npos;
  auto flush = [&] {
    if (start != std::string_view::npos) {
      field(std::string_view(name), std::string_view(value), start);
    }
    start = std::string_view::npos;
  };
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t eol = headers.find('\n', pos);
    std::string_view line =
        headers.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    size_t line_start = pos;
    pos = eol == std::string_view::npos ? headers.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (start != std::string_view::npos) {
        value += ' ';
        value += line;
      }
      continue;
    }
    flush();
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view n = line.substr(0, colon);
    while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) {
      n.remove_suffix(1);
    }
    name.assign(n);
    value.assign(line.substr(colon + 1));
    start = line_start;
  }
  flush();
}

std::string lower_domain(std::string addr) {
  auto at = addr.rfind('@');
  if (at != std::string::npos) {
    for (size_t i = at + 1; i < addr.size(); ++i) {
      addr[i] = base::to_lower(addr[i]);
    }
  }
  return addr;
}

// Pulls addresses out of an address-list (RFC 5322 §3.4): the content of <...> when present,
// otherwise each comma-separated bare addr-spec; comments and quoted display names are skipped.
void extract_addresses(std::string_view value, std::vector<std::string>& out) {
  std::string cleaned;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted) {
      if (c == '\\' && i + 1 < value.size()) {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
      cleaned += ' ';
      continue;
    }
    if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      if (c == '"') {
        quoted = true;
        cleaned += ' ';
      } else {
        cleaned += c;
      }
    }
  }
  // Split at commas, and at group colons/semicolons.
  size_t start = 0;
  for (size_t i = 0; i <= cleaned.size(); ++i) {
    if (i == cleaned.size() || cleaned[i] == ',' || cleaned[i] == ';') {
      std::string_view item(cleaned.data() + start, i - start);
      start = i + 1;
      size_t colon = item.find(':');
      size_t lt = item.find('<');
      if (colon != std::string_view::npos && (lt == std::string_view::npos || colon < lt)) {
        item.remove_prefix(colon + 1);  // "group: a@b" — display name of a group
        lt = item.find('<');
      }
      std::string_view addr = item;
      if (lt != std::string_view::npos) {
        size_t gt = item.find('>', lt);
        addr = item.substr(lt + 1,
                           gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1);
      }
      while (!addr.empty() && std::isspace(static_cast<unsigned char>(addr.front()))) {
        addr.remove_prefix(1);
      }
      while (!addr.empty() && std::isspace(static_cast<unsigned char>(addr.back()))) {
        addr.remove_suffix(1);
      }
      if (!addr.empty()) {
        out.push_back(lower_domain(std::string(addr)));
      }
    }
  }
}

}  // namespace

std::string_view header_section(std::string_view message) {
  if (message.starts_with("\r\n")) {
    return {};
  }
  size_t end = message.find("\r\n\r\n");
  return end == std::string_view::npos ? message : message.substr(0, end + 2);
}

std::vector<std::string> header_from_addresses(std::string_view message) {
  std::vector<std::string> out;
  for (const auto& v : header_values(header_section(message), "From")) {
    extract_addresses(v, out);
  }
  return out;
}

std::vector<std::vector<std::string>> header_from_fields(std::string_view message) {
  std::vector<std::vector<std::string>> out;
  for (const auto& v : header_values(header_section(message), "From")) {
    extract_addresses(v, out.emplace_back());
  }
  return out;
}

std::string missing_submission_headers(std::string_view message, const std::string& id,
                                       const std::string& hostname, const std::string& date) {
  std::string_view headers = header_section(message);
  std::string out;
  if (header_values(headers, "Date").empty()) {
    out += "Date: " + date + "\r\n";
  }
  if (header_values(headers, "Message-ID").empty()) {
    out += "Message-ID: <" + id + "@" + hostname + ">\r\n";
  }
  return out;
}

std::vector<size_t> forged_auth_results(std::string_view headers, std::string_view authserv_id) {
  std::vector<size_t> out;
  for_each_field(headers, [&](std::string_view name, std::string_view value, size_t offset) {
    if (base::iequals(name, "Authentication-Results") &&
        dkim::claims_authserv_id(value, authserv_id)) {
      out.push_back(offset);
    }
  });
  return out;
}

}  // namespace hk::server

// check_tlsrpt; see tlsrpt.hpp.
#include "lib/dns_check/tlsrpt.hpp"

#include <string_view>

namespace hk::dns_check {

TlsRptCheck check_tlsrpt(const std::vector<std::string>& txt_records) {
  TlsRptCheck out;
  size_t n = 0;
  for (const std::string& t : txt_records) {
    // RFC 8460 §3: records not starting with "v=TLSRPTv1;" are discarded.
    if (t.rfind("v=TLSRPTv1", 0) == 0) {
      ++n;
      out.record = t;
    }
  }
  out.present = n > 0;
  if (n == 0) {
    return out;
  }
  if (n > 1) {
    // §3: "If the number of resulting records is not one, senders MUST assume the recipient
    // domain does not implement TLSRPT."
    out.problem = std::to_string(n) + " v=TLSRPTv1 records; senders ignore them unless exactly one";
    return out;
  }
  // tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim], field-delim =
  // *WSP ";" *WSP; the version must be exactly "v=TLSRPTv1".
  std::vector<std::string> fields;
  std::string_view rest = out.record;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view f = rest.substr(0, semi);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) {
      f.remove_prefix(1);
    }
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) {
      f.remove_suffix(1);
    }
    fields.emplace_back(f);
    rest.remove_prefix(semi == std::string_view::npos ? rest.size() : semi + 1);
  }
  if (fields.empty() || fields.front() != "v=TLSRPTv1") {
    out.problem = "the record must start with v=TLSRPTv1;";
    return out;
  }
  std::string rua;
  bool have_rua = false;
  for (size_t i = 1; i < fields.size(); ++i) {
    if (fields[i].empty() && i + 1 == fields.size()) {
      break;  // the optional final delimiter
    }
    if (fields[i].rfind("rua=", 0) == 0) {
      if (have_rua) {
        out.problem = "more than one rua=";
        return out;
      }
      have_rua = true;
      rua = fields[i].substr(4);
    } else if (fields[i].find('=') == std::string::npos) {
      out.problem = "malformed field \"" + fields[i] + "\"";
      return out;
    }
  }
  if (!have_rua) {
    out.problem = "no rua= (RFC 8460 §3: required)";
    return out;
  }
  // tlsrpt-rua = "rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri); §3: mailto: or https:.
  std::string_view uris = rua;
  do {
    size_t comma = uris.find(',');
    std::string_view u = uris.substr(0, comma);
    while (!u.empty() && (u.front() == ' ' || u.front() == '\t')) {
      u.remove_prefix(1);
    }
    while (!u.empty() && (u.back() == ' ' || u.back() == '\t')) {
      u.remove_suffix(1);
    }
    bool mailto = u.rfind("mailto:", 0) == 0 && u.find('@') != std::string_view::npos;
    bool https = u.rfind("https://", 0) == 0 && u.size() > 8;
    if (!mailto && !https) {
      out.problem = "rua URI \"" + std::string(u) + "\" is neither mailto:ADDRESS nor https://";
      return out;
    }
    uris.remove_prefix(comma == std::string_view::npos ? uris.size() : comma + 1);
  } while (!uris.empty());
  return out;
}

}  // namespace hk::dns_check

// The DMARC policy record (RFC 7489 §6.3, §6.4): the TXT record at _dmarc.<domain> read into a
// plain struct. Pure: text in, values out.
// SECURITY: the text comes from any domain's DNS; the parser bounds nothing but its input, is
// linear in it and never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hk::dmarc {

// §6.3 "p": what the Domain Owner asks of a receiver for mail that fails DMARC.
enum class Policy { None, Quarantine, Reject };
// §6.3 "adkim" / "aspf": relaxed ("r", the default) or strict ("s") identifier alignment (§3.1).
enum class Alignment { Relaxed, Strict };

std::string_view to_string(Policy p);     // "none", "quarantine", "reject"
std::string_view to_string(Alignment a);  // "r", "s"

struct Record {
  Policy p = Policy::None;
  std::optional<Policy> sp;  // for subdomains (§6.3); absent: p applies to them too
  Alignment adkim = Alignment::Relaxed;
  Alignment aspf = Alignment::Relaxed;
  int pct = 100;                 // 0..100: the share of failing mail the policy applies to
  std::vector<std::string> rua;  // aggregate report URIs (parsed, not used: we send no reports)
  std::vector<std::string> ruf;  // failure report URIs (likewise)
  std::string fo = "0";          // failure reporting options, as written
  std::string rf = "afrf";       // failure report format, as written
  std::uint32_t ri = 86400;      // aggregate report interval, seconds
  // Tags whose values were invalid and replaced by their defaults (§6.3: "Syntax errors in the
  // remainder of the record SHOULD be discarded in favor of default values"), for the log.
  std::vector<std::string> ignored;
};

enum class RecordKind {
  NotDmarc,  // does not start with "v=DMARC1": discarded in policy discovery (§6.6.3 step 2)
  Invalid,   // a DMARC record without a usable policy: no DMARC processing (§6.6.3 step 6)
  Valid,
};

struct ParsedRecord {
  RecordKind kind = RecordKind::NotDmarc;
  Record record;      // when Valid
  std::string error;  // why it is Invalid
};

// Reads one TXT record (its strings already joined). "v=DMARC1" must be the first tag (§6.3, §6.4:
// exact, case-sensitive). "p" is required; this parser accepts it anywhere after "v", as real
// records show it, and its value case-insensitively (RFC 5234 §2.3 literals). A missing or invalid
// "p", or an invalid "sp", makes the record Invalid — unless "rua" holds a syntactically valid
// URI, when the record counts as "p=none" (§6.6.3 step 6.1). Other invalid values fall back to
// their defaults, unknown tags are ignored (§6.3), and a repeated tag is read at its first place.
ParsedRecord parse_record(std::string_view text);

// §6.4 dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]: a scheme (RFC 3986 §3.1)
// followed by ":" and at least one character, with an optional size limit.
bool is_dmarc_uri(std::string_view uri);

}  // namespace hk::dmarc

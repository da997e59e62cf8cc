// The Organizational Domain (RFC 7489 §3.2) through the Public Suffix List, read by libpsl: the
// public suffix of a name plus one more label ("mail.example.co.uk" → "example.co.uk").
#pragma once

#include <libpsl.h>

#include <memory>
#include <string>
#include <string_view>

#include "lib/base/free.hpp"

namespace hk::dmarc {

class PublicSuffixList {
 public:
  // The newest list on this system: libpsl's psl_latest() takes the distribution's file (Debian's
  // publicsuffix package: /usr/share/publicsuffix/public_suffix_list.dafsa) or the copy built into
  // libpsl, whichever is newer; the built-in copy when no file can be read. Never fails.
  static PublicSuffixList system();
  // The list in `path` (the text .dat form or libpsl's .dafsa); nullptr when it cannot be read.
  static std::unique_ptr<PublicSuffixList> load_file(const std::string& path);

  PublicSuffixList(PublicSuffixList&&) = default;
  PublicSuffixList& operator=(PublicSuffixList&&) = default;

  // §3.2 steps 3-4 for `domain` (lower-case A-labels, as smtp::normalize_domain makes them; a
  // trailing dot is ignored): the longest matching public suffix plus the next label. A name that
  // is itself a public suffix ("co.uk"), or has no labels to spare, is its own Organizational
  // Domain. Names under a TLD the list does not know follow its default rule "*" (the last label
  // is the suffix: "sub.dom.test" → "dom.test"). The list's private section (ICANN and private
  // rules alike) is used, as libpsl does by default.
  std::string organizational_domain(std::string_view domain) const;

  // Where the list came from, for the log: the file name, or "built-in".
  const std::string& source() const { return source_; }

 private:
  PublicSuffixList(psl_ctx_t* owned, const psl_ctx_t* ctx, std::string source);

  std::unique_ptr<psl_ctx_t, base::Free<psl_free>> owned_;  // null for the built-in list
  const psl_ctx_t* ctx_;
  std::string source_;
};

}  // namespace hk::dmarc

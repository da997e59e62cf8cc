// The matcher of captured-message searches: case folding, the fields a term looks at, the
// substring search, and the trigram signatures that let a search pass over a message without
// reading its text (index.hpp explains why). Pure; used by the Index and by matches().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/capture/capture_store.hpp"

namespace hk::capture {

// `s` with its letters folded for a case-insensitive search: ASCII, and in UTF-8 the upper-case
// letters of Latin-1, Latin Extended-A, Greek and Cyrillic (U+00C0-U+04FF), each of which has a
// lower-case form of the same encoded length, so offsets never move.
std::string fold(std::string_view s);

// What the matcher reads of one message: folded text, per field.
struct Haystack {
  std::string_view from;        // From name and address, MAIL FROM
  std::string_view to;          // To, Cc (names and addresses), Bcc, the envelope recipients
  std::string_view subject;     //
  std::string_view anywhere;    // from, to, subject and the snippet (one contiguous range)
  std::string_view message_id;  // without angle brackets
  bool read = false;
  size_t attachments = 0;
};
bool matches(const Query& q, const Haystack& h);

// The trigram signature of a text: 1024 bits, one per trigram hash (a Bloom filter with one hash).
struct Signature {
  static constexpr size_t kWords = 16;
  std::array<uint64_t, kWords> bits{};
  void add(std::string_view text);  // every trigram of `text`
};

// The signature words a term needs, as (word index, mask) pairs with non-zero masks.
using SignatureBits = std::vector<std::pair<size_t, uint64_t>>;

// Substring search, eight candidate positions at a time: a position can start the needle only
// when its byte equals the needle's first and the byte n-1 further equals its last, and both
// tests run on a 64-bit word at once (SWAR); the few candidates are then compared in full. Rare
// last-and-first pairs make this several times faster than a byte-wise Horspool on mail text,
// which shares most letters with any needle (so Horspool's skips stay short).
class Searcher {
 public:
  explicit Searcher(std::string_view needle) : needle_(needle) {}

  bool in(std::string_view hay) const;

 private:
  std::string_view needle_;
};

enum class Field { Anywhere, From, To, Subject, MessageId, IsRead, IsUnread, HasAttachment };

// A term with its field resolved and its searcher and signature bits made once per search
// rather than once per message.
struct Compiled {
  Field field;
  bool negated;
  std::string_view value;
  std::optional<Searcher> searcher;
  // The signature words the term's trigrams set (none for terms under three bytes): a message
  // whose signature lacks one certainly does not hold the term, which answers a negated term
  // without reading the text.
  SignatureBits bits;
};

std::vector<Compiled> compile(const Query& q);
bool term_matches(const Compiled& t, const Haystack& h);
bool all_match(const std::vector<Compiled>& terms, const Haystack& h);
// What a message's signature must hold for every positive text term of `terms` to have a chance.
SignatureBits required_bits(const std::vector<Compiled>& terms);

}  // namespace hk::capture

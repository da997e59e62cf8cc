// The matcher of captured-message searches: folding, substring search, signatures (match.hpp).
#include "daemon/capture/match.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "lib/base/ascii.hpp"

namespace hk::capture {

namespace {

// The lower-case form of an upper-case code point in U+00C0-U+04FF, or the code point itself.
// Every pair here encodes to two UTF-8 bytes on both sides.
uint32_t lower_code_point(uint32_t c) {
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
      (c >= 0x410 && c <= 0x42F)) {
    return c + 0x20;  // Latin-1 À-Þ; Greek Α-Ϋ; Cyrillic А-Я
  }
  if (c >= 0x400 && c <= 0x40F) {
    return c + 0x50;  // Cyrillic Ѐ-Џ
  }
  if (c == 0x178) {
    return 0xFF;  // Ÿ
  }
  // Latin Extended-A pairs: upper case on even code points, except U+0139-U+0148 and
  // U+0179-U+017E (odd); U+0130, U+0131, U+0138, U+0149 and U+017F have no pair here.
  if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) {
    return c % 2 == 0 ? c + 1 : c;
  }
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
    return c % 2 == 1 ? c + 1 : c;
  }
  // Cyrillic Ѡ-Ҁ and Ҋ-ӿ pairs (upper case even), Ӂ-ӎ (upper case odd).
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x4FF)) {
    return c % 2 == 0 ? c + 1 : c;
  }
  if (c >= 0x4C1 && c <= 0x4CE) {
    return c % 2 == 1 ? c + 1 : c;
  }
  return c;
}

// The bit of one trigram: a multiplicative hash of its three bytes, 10 bits of it.
size_t trigram_bit(unsigned char a, unsigned char b, unsigned char c) {
  uint32_t v = (uint32_t{a} << 16) | (uint32_t{b} << 8) | c;
  return (v * 2654435761u) >> 22;
}

bool contains(std::string_view hay, const Searcher& searcher) { return searcher.in(hay); }

}  // namespace

bool Searcher::in(std::string_view hay) const {
  const size_t n = needle_.size();
  if (n == 0) {
    return true;
  }
  if (n > hay.size()) {
    return false;
  }
  const size_t end = hay.size() - n + 1;  // candidate starts are [0, end)
  const char* h = hay.data();
  size_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHighs = 0x8080808080808080ull;
    const uint64_t first = kOnes * static_cast<unsigned char>(needle_.front());
    const uint64_t last = kOnes * static_cast<unsigned char>(needle_.back());
    for (; i + 8 <= end; i += 8) {
      uint64_t a, b;
      std::memcpy(&a, h + i, 8);
      std::memcpy(&b, h + i + n - 1, 8);  // ends at most at hay.size()
      uint64_t z = (a ^ first) | (b ^ last);
      // A set high bit for each zero byte of z (and maybe a false one above a true one: every
      // candidate is compared in full anyway).
      uint64_t m = (z - kOnes) & ~z & kHighs;
      while (m != 0) {
        size_t k = static_cast<size_t>(std::countr_zero(m)) / 8;
        if (std::memcmp(h + i + k, needle_.data(), n) == 0) {
          return true;
        }
        m &= m - 1;
      }
    }
  }
  for (; i < end; ++i) {
    if (h[i] == needle_.front() && std::memcmp(h + i, needle_.data(), n) == 0) {
      return true;
    }
  }
  return false;
}

std::vector<Compiled> compile(const Query& q) {
  std::vector<Compiled> out;
  for (const Query::Term& t : q.terms) {
    Compiled c{Field::Anywhere, t.negated, t.value, std::nullopt, {}};
    if (t.field == "from") {
      c.field = Field::From;
    } else if (t.field == "to") {
      c.field = Field::To;
    } else if (t.field == "subject") {
      c.field = Field::Subject;
    } else if (t.field == "message-id") {
      c.field = Field::MessageId;
      if (c.value.size() >= 2 && c.value.front() == '<' && c.value.back() == '>') {
        c.value = c.value.substr(1, c.value.size() - 2);
      }
    } else if (t.field == "is") {
      c.field = t.value == "read" ? Field::IsRead : Field::IsUnread;
    } else if (t.field == "has") {
      c.field = Field::HasAttachment;
    }
    if (c.field == Field::Anywhere || c.field == Field::From || c.field == Field::To ||
        c.field == Field::Subject) {
      c.searcher.emplace(c.value);
    }
    if (c.searcher || c.field == Field::MessageId) {
      Signature sig;
      sig.add(c.value);
      for (size_t w = 0; w < Signature::kWords; ++w) {
        if (sig.bits[w] != 0) {
          c.bits.emplace_back(w, sig.bits[w]);
        }
      }
    }
    out.push_back(std::move(c));
  }
  // The cheap tests first: a flag answers without touching the text.
  std::stable_partition(out.begin(), out.end(), [](const Compiled& c) {
    return c.field == Field::IsRead || c.field == Field::IsUnread ||
           c.field == Field::HasAttachment || c.field == Field::MessageId;
  });
  return out;
}

bool term_matches(const Compiled& t, const Haystack& h) {
  switch (t.field) {
    case Field::Anywhere:
      return contains(h.anywhere, *t.searcher);
    case Field::From:
      return contains(h.from, *t.searcher);
    case Field::To:
      return contains(h.to, *t.searcher);
    case Field::Subject:
      return contains(h.subject, *t.searcher);
    case Field::MessageId:
      return h.message_id == t.value;
    case Field::IsRead:
      return h.read;
    case Field::IsUnread:
      return !h.read;
    case Field::HasAttachment:
      return h.attachments > 0;
  }
  return false;
}

// The words of the combined term signatures that are not zero, with their masks.
SignatureBits required_bits(const std::vector<Compiled>& terms) {
  std::array<uint64_t, Signature::kWords> need{};
  for (const Compiled& t : terms) {
    if (!t.negated) {
      for (const auto& [w, mask] : t.bits) {
        need[w] |= mask;
      }
    }
  }
  SignatureBits out;
  for (size_t i = 0; i < Signature::kWords; ++i) {
    if (need[i] != 0) {
      out.emplace_back(i, need[i]);
    }
  }
  return out;
}

bool all_match(const std::vector<Compiled>& terms, const Haystack& h) {
  for (const Compiled& t : terms) {
    if (term_matches(t, h) == t.negated) {
      return false;
    }
  }
  return true;
}

void Signature::add(std::string_view text) {
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    size_t bit =
        trigram_bit(static_cast<unsigned char>(text[i]), static_cast<unsigned char>(text[i + 1]),
                    static_cast<unsigned char>(text[i + 2]));
    bits[bit / 64] |= uint64_t{1} << (bit % 64);
  }
}

std::string fold(std::string_view s) {
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    auto b = static_cast<unsigned char>(out[i]);
    if (b < 0x80) {
      out[i] = base::to_lower(out[i]);
      continue;
    }
    // Only two-byte sequences (lead byte 0xC3-0xD3: U+00C0-U+04FF) can change.
    if (b >= 0xC3 && b <= 0xD3 && i + 1 < out.size()) {
      auto b2 = static_cast<unsigned char>(out[i + 1]);
      if ((b2 & 0xC0) == 0x80) {
        uint32_t c = ((b & 0x1Fu) << 6) | (b2 & 0x3Fu);
        uint32_t l = lower_code_point(c);
        out[i] = static_cast<char>(0xC0 | (l >> 6));
        out[i + 1] = static_cast<char>(0x80 | (l & 0x3F));
        ++i;
      }
    }
  }
  return out;
}

bool matches(const Query& q, const Haystack& h) { return all_match(compile(q), h); }

}  // namespace hk::capture

// Index: captured messages in arrival order, case folding, and the matcher over folded text.
#include "daemon/capture/index.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <utility>

#include "lib/base/ascii.hpp"

namespace hk::capture {

namespace {

constexpr char kSeparator = '\x1f';

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

// Substring search, eight candidate positions at a time: a position can start the needle only
// when its byte equals the needle's first and the byte n-1 further equals its last, and both
// tests run on a 64-bit word at once (SWAR); the few candidates are then compared in full. Rare
// last-and-first pairs make this several times faster than a byte-wise Horspool on mail text,
// which shares most letters with any needle (so Horspool's skips stay short).
class Searcher {
 public:
  explicit Searcher(std::string_view needle) : needle_(needle) {}

  bool in(std::string_view hay) const {
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

 private:
  std::string_view needle_;
};

bool contains(std::string_view hay, const Searcher& searcher) { return searcher.in(hay); }

enum class Field { Anywhere, From, To, Subject, MessageId, IsRead, IsUnread, HasAttachment };

// The bit of one trigram: a multiplicative hash of its three bytes, 10 bits of it.
size_t trigram_bit(unsigned char a, unsigned char b, unsigned char c) {
  uint32_t v = (uint32_t{a} << 16) | (uint32_t{b} << 8) | c;
  return (v * 2654435761u) >> 22;
}

// A term with its field resolved and its searcher built once per search rather than once per
// message: Horspool's skip table makes a miss cost about length/needle comparisons.
struct Compiled {
  Field field;
  bool negated;
  std::string_view value;
  std::optional<Searcher> searcher;
  // The signature words the term's trigrams set (none for terms under three bytes): a message
  // whose signature lacks one certainly does not hold the term, which answers a negated term
  // without reading the text.
  std::vector<std::pair<size_t, uint64_t>> bits;
};

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

// What a message's signature must hold for every positive text term to have a chance: the words
// of the combined term signatures that are not zero, with their masks.
std::vector<std::pair<size_t, uint64_t>> required_bits(const std::vector<Compiled>& terms) {
  std::array<uint64_t, Signature::kWords> need{};
  for (const Compiled& t : terms) {
    if (!t.negated) {
      for (const auto& [w, mask] : t.bits) {
        need[w] |= mask;
      }
    }
  }
  std::vector<std::pair<size_t, uint64_t>> out;
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

void append_address(std::string& out, const mime::Address& a) {
  if (!a.name.empty()) {
    out += a.name;
    out += ' ';
  }
  out += a.address;
  out += ' ';
}

size_t string_heap(const std::string& s) {
  // Short strings live inside the object (libstdc++: up to 15 bytes).
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

size_t addresses_heap(const std::vector<mime::Address>& v) {
  size_t n = v.capacity() * sizeof(mime::Address);
  for (const mime::Address& a : v) {
    n += string_heap(a.name) + string_heap(a.address);
  }
  return n;
}

}  // namespace

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

Haystack Entry::haystack() const {
  std::string_view all = text;
  Haystack h;
  h.from = all.substr(0, from_end);
  h.to = all.substr(from_end + 1, to_end - from_end - 1);
  h.subject = all.substr(to_end + 1, subject_end - to_end - 1);
  h.anywhere = all.substr(0, snippet_end);
  h.message_id = all.substr(snippet_end + 1);
  h.read = read;
  h.attachments = attachments;
  return h;
}

Entry make_entry(SummaryPtr s) {
  Entry e;
  std::string t;
  append_address(t, s->from);
  t += s->envelope_from;
  e.from_end = static_cast<uint32_t>(t.size());
  t += kSeparator;
  for (const auto* list : {&s->to, &s->cc, &s->bcc}) {
    for (const mime::Address& a : *list) {
      append_address(t, a);
    }
  }
  for (const std::string& r : s->envelope_to) {
    t += r;
    t += ' ';
  }
  e.to_end = static_cast<uint32_t>(t.size());
  t += kSeparator;
  t += s->subject;
  e.subject_end = static_cast<uint32_t>(t.size());
  t += kSeparator;
  t += s->snippet;
  e.snippet_end = static_cast<uint32_t>(t.size());
  t += kSeparator;
  t += s->message_id;
  // A separator inside a value would shift a field; the text is only searched, so a space will do.
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == kSeparator && i != e.from_end && i != e.to_end && i != e.subject_end &&
        i != e.snippet_end) {
      t[i] = ' ';
    }
  }
  e.text = fold(t);
  e.text.shrink_to_fit();
  e.read = s->read;
  e.attachments = static_cast<uint32_t>(std::min<size_t>(s->attachments, UINT32_MAX));
  e.summary = std::move(s);
  return e;
}

void Index::insert(Entry e) {
  if (!e.summary->read) {
    ++unread_;
  }
  // Over the whole text, message-id included, so that message-id: terms are filtered too.
  Signature sig;
  sig.add(e.text);
  if (entries_.empty() || entries_.back().summary->id < e.summary->id) {
    entries_.push_back(std::move(e));
    for (size_t w = 0; w < Signature::kWords; ++w) {
      columns_[w].push_back(sig.bits[w]);
    }
    return;
  }
  auto at =
      std::upper_bound(entries_.begin(), entries_.end(), e.summary->id,
                       [](const std::string& id, const Entry& x) { return id < x.summary->id; });
  auto pos = at - entries_.begin();
  entries_.insert(at, std::move(e));
  for (size_t w = 0; w < Signature::kWords; ++w) {
    columns_[w].insert(columns_[w].begin() + pos, sig.bits[w]);
  }
}

std::deque<Entry>::iterator Index::lookup(const std::string& id) {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), id,
                       [](const Entry& x, const std::string& v) { return x.summary->id < v; });
  return it != entries_.end() && it->summary->id == id ? it : entries_.end();
}

std::deque<Entry>::const_iterator Index::lookup(const std::string& id) const {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), id,
                       [](const Entry& x, const std::string& v) { return x.summary->id < v; });
  return it != entries_.end() && it->summary->id == id ? it : entries_.end();
}

std::vector<SummaryPtr> Index::erase(const std::vector<std::string>& ids) {
  std::vector<size_t> at;
  for (const std::string& id : ids) {
    auto it = lookup(id);
    if (it != entries_.end()) {
      at.push_back(static_cast<size_t>(it - entries_.begin()));
    }
  }
  std::sort(at.begin(), at.end());
  at.erase(std::unique(at.begin(), at.end()), at.end());
  std::vector<SummaryPtr> removed;
  if (at.empty()) {
    return removed;
  }
  // One compaction pass from the first removed position: O(n) whatever the number of IDs.
  size_t out = at.front();
  size_t k = 0;
  for (size_t i = at.front(); i < entries_.size(); ++i) {
    if (k < at.size() && at[k] == i) {
      ++k;
      if (!entries_[i].summary->read) {
        --unread_;
      }
      removed.push_back(std::move(entries_[i].summary));
      continue;
    }
    if (out != i) {
      entries_[out] = std::move(entries_[i]);
      for (auto& column : columns_) {
        column[out] = column[i];
      }
    }
    ++out;
  }
  entries_.resize(out);
  for (auto& column : columns_) {
    column.resize(out);
  }
  return removed;
}

SummaryPtr Index::pop_oldest() {
  if (entries_.empty()) {
    return nullptr;
  }
  SummaryPtr s = std::move(entries_.front().summary);
  entries_.pop_front();
  for (auto& column : columns_) {
    column.pop_front();
  }
  if (!s->read) {
    --unread_;
  }
  return s;
}

std::vector<SummaryPtr> Index::clear() {
  std::vector<SummaryPtr> all;
  all.reserve(entries_.size());
  for (Entry& e : entries_) {
    all.push_back(std::move(e.summary));
  }
  entries_.clear();
  for (auto& column : columns_) {
    column.clear();
  }
  unread_ = 0;
  return all;
}

SummaryPtr Index::find(const std::string& id) const {
  auto it = lookup(id);
  return it == entries_.end() ? nullptr : it->summary;
}

SummaryPtr Index::set_read(const std::string& id, bool read) {
  auto it = lookup(id);
  if (it == entries_.end() || it->summary->read == read) {
    return nullptr;
  }
  // Summaries are shared with readers (an API reply being written): change a copy.
  auto copy = std::make_shared<Summary>(*it->summary);
  copy->read = read;
  it->summary = copy;
  it->read = read;
  if (read) {
    --unread_;
  } else {
    ++unread_;
  }
  return copy;
}

std::vector<SummaryPtr> Index::list(size_t offset, size_t limit, size_t& total) const {
  total = entries_.size();
  std::vector<SummaryPtr> out;
  if (offset >= total) {
    return out;
  }
  size_t n = std::min(limit, total - offset);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(entries_[total - 1 - offset - i].summary);
  }
  return out;
}

// Calls fn on every entry that matches, newest first, until it returns true.
template <class Fn>
void Index::scan_newest_first(const Query& q, Fn fn) const {
  std::vector<Compiled> terms = compile(q);
  auto need = required_bits(terms);
  // The signature test runs over the columns in runs of entries, so that each column is read
  // sequentially; only the entries that pass it are looked at.
  constexpr size_t kRun = 256;
  std::array<bool, kRun> pass;
  size_t end = entries_.size();
  while (end > 0) {
    size_t begin = end > kRun ? end - kRun : 0;
    pass.fill(true);
    for (const auto& [w, mask] : need) {
      const std::deque<uint64_t>& column = columns_[w];
      for (size_t i = begin; i < end; ++i) {
        pass[i - begin] = pass[i - begin] && (column[i] & mask) == mask;
      }
    }
    for (size_t i = end; i-- > begin;) {
      if (!pass[i - begin]) {
        continue;
      }
      Haystack h = entries_[i].haystack();
      bool ok = true;
      for (const Compiled& t : terms) {
        bool maybe = std::all_of(t.bits.begin(), t.bits.end(), [&](const auto& bit) {
          return (columns_[bit.first][i] & bit.second) == bit.second;
        });
        if ((maybe && term_matches(t, h)) == t.negated) {
          ok = false;
          break;
        }
      }
      if (ok && fn(entries_[i])) {
        return;
      }
    }
    end = begin;
  }
}

std::vector<SummaryPtr> Index::search(const Query& q, size_t offset, size_t limit,
                                      size_t& total) const {
  if (q.terms.empty()) {
    return list(offset, limit, total);
  }
  std::vector<SummaryPtr> out;
  total = 0;
  scan_newest_first(q, [&](const Entry& e) {
    if (total >= offset && out.size() < limit) {
      out.push_back(e.summary);
    }
    ++total;
    return false;
  });
  return out;
}

SummaryPtr Index::newest_match(const Query& q, queue::TimePoint since) const {
  SummaryPtr found;
  scan_newest_first(q, [&](const Entry& e) {
    if (e.summary->created >= since) {
      found = e.summary;
      return true;
    }
    return false;
  });
  return found;
}

size_t Index::memory_bytes() const {
  size_t n = 0;
  for (const Entry& e : entries_) {
    const Summary& s = *e.summary;
    n += sizeof(Entry) + string_heap(e.text) + Signature::kWords * sizeof(uint64_t);
    // make_shared: the control block and the Summary in one allocation.
    n += sizeof(Summary) + 16;
    for (const std::string* str : {&s.id, &s.message_id, &s.envelope_from, &s.subject, &s.snippet,
                                   &s.from.name, &s.from.address}) {
      n += string_heap(*str);
    }
    n += addresses_heap(s.to) + addresses_heap(s.cc) + addresses_heap(s.reply_to) +
         addresses_heap(s.bcc);
    n += s.envelope_to.capacity() * sizeof(std::string);
    for (const std::string& r : s.envelope_to) {
      n += string_heap(r);
    }
  }
  return n;
}

}  // namespace hk::capture

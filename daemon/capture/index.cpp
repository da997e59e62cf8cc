// Index: captured messages in arrival order, case folding, and the matcher over folded text.
#include "daemon/capture/index.hpp"

#include <algorithm>
#include <iterator>
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

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

bool term_matches(const Query::Term& t, const Haystack& h) {
  if (t.field.empty()) {
    return contains(h.anywhere, t.value);
  }
  if (t.field == "from") {
    return contains(h.from, t.value);
  }
  if (t.field == "to") {
    return contains(h.to, t.value);
  }
  if (t.field == "subject") {
    return contains(h.subject, t.value);
  }
  if (t.field == "message-id") {
    std::string_view v = t.value;
    if (v.size() >= 2 && v.front() == '<' && v.back() == '>') {
      v = v.substr(1, v.size() - 2);
    }
    return h.message_id == v;
  }
  if (t.field == "is") {
    return t.value == "read" ? h.read : !h.read;
  }
  if (t.field == "has") {
    return h.attachments > 0;
  }
  return false;  // parse_query never makes another field
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

bool matches(const Query& q, const Haystack& h) {
  for (const Query::Term& t : q.terms) {
    if (term_matches(t, h) == t.negated) {
      return false;
    }
  }
  return true;
}

Haystack Entry::haystack() const {
  std::string_view all = text;
  Haystack h;
  h.from = all.substr(0, from_end);
  h.to = all.substr(from_end + 1, to_end - from_end - 1);
  h.subject = all.substr(to_end + 1, subject_end - to_end - 1);
  h.anywhere = all.substr(0, snippet_end);
  h.message_id = all.substr(snippet_end + 1);
  h.read = summary->read;
  h.attachments = summary->attachments;
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
  e.summary = std::move(s);
  return e;
}

void Index::insert(Entry e) {
  if (!e.summary->read) {
    ++unread_;
  }
  if (entries_.empty() || entries_.back().summary->id < e.summary->id) {
    entries_.push_back(std::move(e));
    return;
  }
  auto at =
      std::upper_bound(entries_.begin(), entries_.end(), e.summary->id,
                       [](const std::string& id, const Entry& x) { return id < x.summary->id; });
  entries_.insert(at, std::move(e));
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
    }
    ++out;
  }
  entries_.resize(out);
  return removed;
}

SummaryPtr Index::pop_oldest() {
  if (entries_.empty()) {
    return nullptr;
  }
  SummaryPtr s = std::move(entries_.front().summary);
  entries_.pop_front();
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

std::vector<SummaryPtr> Index::search(const Query& q, size_t offset, size_t limit,
                                      size_t& total) const {
  if (q.terms.empty()) {
    return list(offset, limit, total);
  }
  std::vector<SummaryPtr> out;
  total = 0;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (!matches(q, it->haystack())) {
      continue;
    }
    if (total >= offset && out.size() < limit) {
      out.push_back(it->summary);
    }
    ++total;
  }
  return out;
}

SummaryPtr Index::newest_match(const Query& q, queue::TimePoint since) const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->summary->created >= since && matches(q, it->haystack())) {
      return it->summary;
    }
  }
  return nullptr;
}

size_t Index::memory_bytes() const {
  size_t n = 0;
  for (const Entry& e : entries_) {
    const Summary& s = *e.summary;
    n += sizeof(Entry) + string_heap(e.text);
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

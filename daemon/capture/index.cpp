// Index: captured messages in arrival order, with their folded text and signatures.
#include "daemon/capture/index.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <iterator>
#include <utility>

namespace hk::capture {

namespace {

constexpr char kSeparator = '\x1f';

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
  constexpr size_t kAhead = 4;
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
    // The flag terms (is:, has:) too, so that only real candidates have their text fetched.
    for (const Compiled& t : terms) {
      if (t.field == Field::IsRead || t.field == Field::IsUnread ||
          t.field == Field::HasAttachment) {
        for (size_t i = begin; i < end; ++i) {
          pass[i - begin] =
              pass[i - begin] && term_matches(t, entries_[i].haystack_flags()) != t.negated;
        }
      }
    }
    for (size_t i = end; i-- > begin;) {
      if (!pass[i - begin]) {
        continue;
      }
      // The texts are scattered on the heap and a scan is bound by their cache misses: ask for
      // a text a few candidates ahead while this one is searched.
      if (i >= begin + kAhead && pass[i - begin - kAhead]) {
        const std::string& next = entries_[i - kAhead].text;
        for (size_t off = 0; off < next.size(); off += 64) {
          __builtin_prefetch(next.data() + off);
        }
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

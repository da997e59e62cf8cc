// Index: the in-memory index of captured messages — their summaries in arrival order, each with
// the case-folded text that searches scan — and the query matcher over that text. Pure: no files,
// no Asio, so that the benchmark (tests/bench/capture_index_bench.cpp) can fill one alone.
//
// Why a scan and not an inverted index: a search must count every match (the API's `total`), and
// a term is a substring test, so an index would have to be one of n-grams, whose posting lists
// cost more memory than the text. Instead each message carries a 1024-bit signature of the
// trigrams of its text (a Bloom filter with one hash): a term's trigrams must all be in it before
// the text is looked at. The signatures are kept by columns (word i of every message together),
// so a search reads only the words its terms need, sequentially: most messages are passed over
// after a few bytes instead of ~400 scattered ones. tests/bench/capture_index_bench.cpp measures.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/capture/capture_store.hpp"
#include "daemon/capture/match.hpp"

namespace hk::capture {

// One indexed message. `text` is the folded fields joined by U+001F (which a query value never
// holds), so that a bare term is one substring search over `anywhere`.
struct Entry {
  SummaryPtr summary;
  std::string text;
  uint32_t from_end = 0, to_end = 0, subject_end = 0, snippet_end = 0;
  // Copies of the summary's, so that is: and has: terms never follow the pointer.
  bool read = false;
  uint32_t attachments = 0;

  Haystack haystack() const;
  // Only the flags, without touching `text`.
  Haystack haystack_flags() const {
    Haystack h;
    h.read = read;
    h.attachments = attachments;
    return h;
  }
};
Entry make_entry(SummaryPtr s);

class Index {
 public:
  // Keeps the entries sorted by ID (arrival order); new IDs go to the end at no cost.
  void insert(Entry e);
  // Returns the removed summaries (unknown IDs skipped), in one pass over the index.
  std::vector<SummaryPtr> erase(const std::vector<std::string>& ids);
  SummaryPtr pop_oldest();          // null when empty
  std::vector<SummaryPtr> clear();  // everything, oldest first
  SummaryPtr find(const std::string& id) const;
  // Replaces the message's summary by a copy with `read` set; returns the new one, or null when
  // the ID is unknown or the flag was already so.
  SummaryPtr set_read(const std::string& id, bool read);

  size_t size() const { return entries_.size(); }
  size_t unread() const { return unread_; }
  // Newest first, from `offset`, at most `limit`; `total` counts all (list) or all matches.
  std::vector<SummaryPtr> list(size_t offset, size_t limit, size_t& total) const;
  std::vector<SummaryPtr> search(const Query& q, size_t offset, size_t limit, size_t& total) const;
  // The newest message matching `q` with created >= since, or null.
  SummaryPtr newest_match(const Query& q, queue::TimePoint since) const;
  // Heap bytes held for the messages (summaries, their strings, the folded text), estimated
  // from sizes and capacities: what the report's "memory per message" is measured with.
  size_t memory_bytes() const;

 private:
  std::deque<Entry>::iterator lookup(const std::string& id);
  std::deque<Entry>::const_iterator lookup(const std::string& id) const;
  template <class Fn>  // Fn(const Entry&) -> bool (stop)
  void scan_newest_first(const Query& q, Fn fn) const;

  std::deque<Entry> entries_;
  // columns_[w][i]: word w of entry i's signature (see above); same order as entries_.
  std::array<std::deque<uint64_t>, Signature::kWords> columns_;
  size_t unread_ = 0;
};

}  // namespace hk::capture

// Index: the in-memory index of captured messages — their summaries in arrival order, each with
// the case-folded text that searches scan — and the query matcher over that text. Pure: no files,
// no Asio, so that the benchmark (tests/bench/capture_index_bench.cpp) can fill one alone.
//
// Why a scan and not an inverted index: a search must count every match (the API's `total`), and
// a term is a substring test, so an index would have to be one of n-grams to help; a scan of
// pre-folded text answers 100,000 messages in a few milliseconds (docs/capture.md, the bench), and
// costs nothing to keep up to date.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
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

// One indexed message. `text` is the folded fields joined by U+001F (which a query value never
// holds), so that a bare term is one substring search over `anywhere`.
struct Entry {
  SummaryPtr summary;
  std::string text;
  uint32_t from_end = 0, to_end = 0, subject_end = 0, snippet_end = 0;

  Haystack haystack() const;
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

  std::deque<Entry> entries_;
  size_t unread_ = 0;
};

}  // namespace hk::capture

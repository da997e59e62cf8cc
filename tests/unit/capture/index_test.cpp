// Tests for the Index on its own: order, paging and the unread count through inserts out of
// order, erases and trims; and the search's signature prefilter checked against the plain matcher
// on random messages and queries, so that a filter that wrongly passes over a message fails here.
#include "daemon/capture/index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace hk::capture {
namespace {

const char* const kWords[] = {"alpha", "beta", "gamma", "delta",    "Über", "straße", "ПРИВЕТ",
                              "x",     "ab",   "reset", "password", "a-b",  "q"};

std::string pick_words(std::mt19937& rng, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += (i > 0 ? " " : "");
    out += kWords[rng() % std::size(kWords)];
  }
  return out;
}

SummaryPtr random_summary(std::mt19937& rng, std::string id) {
  Summary s;
  s.id = std::move(id);
  s.from = {pick_words(rng, 1), pick_words(rng, 1) + "@from.example"};
  s.to = {{pick_words(rng, 1), pick_words(rng, 1) + "@to.example"}};
  s.envelope_to = {s.to[0].address};
  s.subject = pick_words(rng, 3);
  s.snippet = pick_words(rng, 8);
  s.message_id = pick_words(rng, 1) + "@id";
  s.read = rng() % 2 == 0;
  s.attachments = rng() % 3 == 0 ? 1 : 0;
  return std::make_shared<const Summary>(std::move(s));
}

std::string random_query(std::mt19937& rng) {
  static const char* const kFields[] = {"", "", "from:", "to:", "subject:", "-", "-subject:"};
  std::string q;
  size_t terms = 1 + rng() % 3;
  for (size_t i = 0; i < terms; ++i) {
    std::string w = kWords[rng() % std::size(kWords)];
    if (rng() % 3 == 0) {
      w = w.substr(0, 1 + rng() % w.size());  // a prefix, maybe cut inside a UTF-8 letter
    }
    if (w.find_first_of("\"") != std::string::npos || w.back() == '-') {
      continue;
    }
    q += std::string(i > 0 ? " " : "") + kFields[rng() % std::size(kFields)] + "\"" + w + "\"";
  }
  if (rng() % 4 == 0) {
    q += rng() % 2 == 0 ? " is:read" : " -has:attachment";
  }
  return q;
}

TEST(Index, OrderPagingAndCountsThroughChanges) {
  Index index;
  std::mt19937 rng(3);
  // Out of order: the index sorts by ID.
  for (const char* id : {"05", "01", "09", "03", "07"}) {
    index.insert(make_entry(random_summary(rng, id)));
  }
  size_t total = 0;
  auto ids = [](const std::vector<SummaryPtr>& v) {
    std::vector<std::string> out;
    for (const SummaryPtr& s : v) {
      out.push_back(s->id);
    }
    return out;
  };
  EXPECT_EQ(ids(index.list(0, 10, total)),
            (std::vector<std::string>{"09", "07", "05", "03", "01"}));
  EXPECT_EQ(ids(index.list(1, 2, total)), (std::vector<std::string>{"07", "05"}));
  EXPECT_EQ(ids(index.erase({"03", "nope", "09"})), (std::vector<std::string>{"03", "09"}));
  EXPECT_EQ(index.pop_oldest()->id, "01");
  EXPECT_EQ(ids(index.list(0, 10, total)), (std::vector<std::string>{"07", "05"}));
  EXPECT_EQ(total, 2u);
  size_t unread = 0;
  for (const SummaryPtr& s : index.list(0, 10, total)) {
    unread += s->read ? 0 : 1;
  }
  EXPECT_EQ(index.unread(), unread);
  ASSERT_TRUE(index.find("05"));
  bool was = index.find("05")->read;
  EXPECT_TRUE(index.set_read("05", !was));
  EXPECT_EQ(index.find("05")->read, !was);
  EXPECT_EQ(index.unread(), was ? unread + 1 : unread - 1);
  EXPECT_EQ(index.clear().size(), 2u);
  EXPECT_EQ(index.unread(), 0u);
  EXPECT_EQ(index.pop_oldest(), nullptr);
}

TEST(Index, SearchAgreesWithThePlainMatcher) {
  std::mt19937 rng(11);
  Index index;
  std::vector<SummaryPtr> all;
  for (int i = 0; i < 3000; ++i) {
    char id[16];
    snprintf(id, sizeof id, "%08u", static_cast<unsigned>(rng() % 100000000));
    if (index.find(id)) {
      continue;
    }
    SummaryPtr s = random_summary(rng, id);
    index.insert(make_entry(s));
    all.push_back(s);
  }
  // Removals and trims in between, so that the signature columns must follow the entries.
  std::vector<std::string> drop;
  for (size_t i = 0; i < all.size(); i += 7) {
    drop.push_back(all[i]->id);
  }
  index.erase(drop);
  for (int i = 0; i < 50; ++i) {
    index.pop_oldest();
  }
  size_t total = 0;
  std::vector<SummaryPtr> kept = index.list(0, SIZE_MAX, total);
  for (int round = 0; round < 300; ++round) {
    std::string text = random_query(rng);
    std::string error;
    std::optional<Query> q = parse_query(text, error);
    ASSERT_TRUE(q.has_value()) << text << ": " << error;
    std::vector<std::string> expected;
    for (const SummaryPtr& s : kept) {
      if (matches(*q, *s)) {
        expected.push_back(s->id);
      }
    }
    std::vector<SummaryPtr> got = index.search(*q, 0, SIZE_MAX, total);
    ASSERT_EQ(total, expected.size()) << text;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i]->id, expected[i]) << text;
    }
    SummaryPtr newest = index.newest_match(*q, {});
    EXPECT_EQ(newest ? newest->id : "", expected.empty() ? "" : expected.front()) << text;
  }
}

}  // namespace
}  // namespace hk::capture

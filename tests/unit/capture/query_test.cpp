// Tests for the search syntax: parse_query on good and bad input, folding, and matches() over
// summaries field by field.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/capture/capture_store.hpp"
#include "daemon/capture/index.hpp"

namespace hk::capture {
namespace {

std::string describe(const Query& q) {
  std::string out;
  for (const Query::Term& t : q.terms) {
    if (!out.empty()) {
      out += ' ';
    }
    out += t.negated ? "-" : "";
    out += t.field.empty() ? "" : t.field + ":";
    out += "[" + t.value + "]";
  }
  return out;
}

TEST(ParseQuery, GoodSyntax) {
  struct Case {
    const char* text;
    const char* parsed;
  };
  const Case cases[] = {
      {"", ""},
      {"   ", ""},
      {"hello", "[hello]"},
      {"Hello WORLD", "[hello] [world]"},
      {"\"hello world\"", "[hello world]"},
      {"-spam", "-[spam]"},
      {"-\"two words\"", "-[two words]"},
      {"from:Alice@Example.org", "from:[alice@example.org]"},
      {"FROM:alice", "from:[alice]"},
      {"to:bob cc", "to:[bob] [cc]"},
      {"subject:\"Reset your password\"", "subject:[reset your password]"},
      {"-subject:newsletter", "-subject:[newsletter]"},
      {"message-id:<abc@x>", "message-id:[<abc@x>]"},
      {"is:read", "is:[read]"},
      {"is:UNREAD", "is:[unread]"},
      {"has:attachment", "has:[attachment]"},
      {"has:attachments", "has:[attachment]"},
      {"\"a:b\"", "[a:b]"},      // quoted: a bare term, not a field
      {"12:30", "[12:30]"},      // a field name has letters only
      {"\"\"", ""},              // empty quotes search for nothing in particular
      {"re-send", "[re-send]"},  // '-' inside a word is text
      {"\tfrom:a\r\nto:b ", "from:[a] to:[b]"},
      {"Über", "[über]"},      // Latin-1 folded
      {"ПРИВЕТ", "[привет]"},  // Cyrillic folded
  };
  for (const Case& c : cases) {
    std::string error;
    std::optional<Query> q = parse_query(c.text, error);
    ASSERT_TRUE(q.has_value()) << c.text << ": " << error;
    EXPECT_EQ(describe(*q), c.parsed) << c.text;
    EXPECT_EQ(error, "") << c.text;
  }
}

TEST(ParseQuery, BadSyntaxSaysWhat) {
  struct Case {
    const char* text;
    const char* error_has;
  };
  const Case cases[] = {
      {"\"unterminated", "unterminated quote at offset 0"},
      {"subject:\"half", "unterminated quote at offset 8"},
      {"foo:bar", "unknown search field \"foo:\""},
      {"http://example.com", "unknown search field \"http:\""},
      {"from:", "\"from:\" needs a value"},
      {"-to:", "\"-to:\" needs a value"},
      {"is:new", "is: takes read or unread"},
      {"has:pdf", "has: takes attachment"},
      {"-", "a lone '-' at offset 0"},
      {"ok - bad", "a lone '-' at offset 3"},
  };
  for (const Case& c : cases) {
    std::string error;
    std::optional<Query> q = parse_query(c.text, error);
    EXPECT_FALSE(q.has_value()) << c.text;
    EXPECT_NE(error.find(c.error_has), std::string::npos) << c.text << " -> " << error;
  }
}

TEST(Fold, KeepsLengthAndFoldsLetters) {
  EXPECT_EQ(fold("ABC xyz 123"), "abc xyz 123");
  EXPECT_EQ(fold("ÀÉÎÕÜ ×"), "àéîõü ×");  // × (U+00D7) is not a letter
  EXPECT_EQ(fold("ĀĹŸ"), "āĺÿ");
  EXPECT_EQ(fold("ΑΒΓ Σ"), "αβγ σ");
  EXPECT_EQ(fold("ЁЖЯ"), "ёжя");
  EXPECT_EQ(fold("日本語"), "日本語");
  std::string broken = "\xC3";  // a lead byte at the end: left alone
  EXPECT_EQ(fold(broken), broken);
}

Summary sample() {
  Summary s;
  s.id = "0000000000000000001";
  s.message_id = "Reset.123@App.Example";
  s.from = {"Shop Robot", "robot@shop.example"};
  s.to = {{"Bob Builder", "bob@example.net"}};
  s.cc = {{"", "carol@example.net"}};
  s.bcc = {{"", "audit@example.net"}};
  s.envelope_from = "bounce+123@shop.example";
  s.envelope_to = {"bob@example.net", "carol@example.net", "audit@example.net"};
  s.subject = "Réinitialiser your Password";
  s.snippet = "Click the link below to choose a new password";
  s.attachments = 0;
  return s;
}

bool match(const char* text, const Summary& s) {
  std::string error;
  std::optional<Query> q = parse_query(text, error);
  EXPECT_TRUE(q.has_value()) << text << ": " << error;
  return q && matches(*q, s);
}

TEST(Matches, FieldByField) {
  Summary s = sample();
  struct Case {
    const char* text;
    bool expected;
  };
  const Case cases[] = {
      {"", true},
      {"password", true},  // subject and snippet
      {"choose", true},    // snippet only
      {"ROBOT", true},     // from name, any case
      {"from:robot@shop.example", true},
      {"from:\"shop robot\"", true},
      {"from:bounce+123", true},  // MAIL FROM
      {"from:bob", false},
      {"to:bob", true},
      {"to:builder", true},  // a display name
      {"to:carol", true},    // Cc
      {"to:audit", true},    // Bcc
      {"to:robot", false},
      {"subject:password", true},
      {"subject:choose", false},        // the snippet is not the subject
      {"subject:réinitialiser", true},  // folded é
      {"subject:RÉINITIALISER", true},
      {"message-id:reset.123@app.example", true},
      {"message-id:<Reset.123@App.Example>", true},
      {"message-id:reset", false},  // the whole ID, not a part
      {"is:unread", true},
      {"is:read", false},
      {"has:attachment", false},
      {"-has:attachment", true},
      {"password -robot", false},  // all terms must match
      {"password -newsletter", true},
      {"\"new password\"", true},
      {"\"password new\"", false},
      {"-to:carol", false},
      {"zebra", false},
      {"snippet", false},  // field names are not text
  };
  for (const Case& c : cases) {
    EXPECT_EQ(match(c.text, s), c.expected) << c.text;
  }
  s.read = true;
  s.attachments = 2;
  EXPECT_TRUE(match("is:read has:attachment", s));
  EXPECT_FALSE(match("is:unread", s));
}

TEST(Matches, TermsDoNotSpanFields) {
  Summary s = sample();
  // The end of the subject and the start of the snippet are not one text.
  EXPECT_FALSE(match("\"password click\"", s));
  // A control character in a header value cannot shift the fields either.
  s.subject = std::string("a\x1f") + "b";
  EXPECT_TRUE(match("subject:b", s));
  EXPECT_FALSE(match("to:robot", s));
}

}  // namespace
}  // namespace hk::capture

// daemon/console/message_json.hpp: Mailpit's JSON shapes (field names, types, order of messages,
// dates) and the date parsers; every output is read back with the JSON reader, so it must parse.
#include "daemon/console/message_json.hpp"

#include <gtest/gtest.h>

#include <string>

#include "daemon/console/json_in.hpp"

namespace hk::console {
namespace {

using json_in::Value;
using namespace std::chrono_literals;

Value parsed(const std::string& json) {
  std::string error;
  auto v = json_in::parse(json, error);
  EXPECT_TRUE(v) << error << "\n" << json;
  return v.value_or(Value{});
}

queue::TimePoint at(int64_t unix_ms) {
  return queue::TimePoint(std::chrono::milliseconds(unix_ms));
}

capture::Summary sample() {
  capture::Summary s;
  s.id = "0123ABC";
  s.created = at(1796620912123);  // 2026-12-07T05:21:52.123Z
  s.message_id = "m1@app.test";
  s.from = {"Zoë \"Z\" Ünï", "zoe@app.test"};
  s.to = {{"", "bob@x.test"}, {"Carl", "carl@x.test"}};
  s.cc = {{"Dee", "dee@x.test"}};
  s.bcc = {{"", "hidden@x.test"}};
  s.reply_to = {};
  s.envelope_from = "bounce@app.test";
  s.subject = "Réinitialiser \x01 <b>";
  s.snippet = "Hello\nthere";
  s.size = 1234;
  s.attachments = 2;
  s.read = true;
  return s;
}

TEST(MessageJson, Rfc3339Millis) {
  EXPECT_EQ(rfc3339_millis(at(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339_millis(at(1796620912123)), "2026-12-07T05:21:52.123Z");
  EXPECT_EQ(rfc3339_millis(at(951782400999)), "2000-02-29T00:00:00.999Z");
  EXPECT_EQ(rfc3339_millis(at(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(MessageJson, ParseRfc3339) {
  EXPECT_EQ(parse_rfc3339("2026-12-07T05:21:52.123Z"), at(1796620912123));
  EXPECT_EQ(parse_rfc3339("2026-12-07t05:21:52.123z"), at(1796620912123));
  EXPECT_EQ(parse_rfc3339("2026-12-07T14:21:52.123+09:00"), at(1796620912123));
  EXPECT_EQ(parse_rfc3339("2026-12-07T00:21:52.1234-05:00"), at(1796620912123) + 400us);
  EXPECT_EQ(parse_rfc3339("2000-02-29T00:00:00Z"), at(951782400000));
  for (const char* bad :
       {"", "2026-12-07", "2026-12-07T05:21:52", "2026-12-07 05:21:52Z", "2026-13-07T05:21:52Z",
        "2026-02-29T05:21:52Z", "2026-12-07T24:00:00Z", "2026-12-07T05:21:52.Z",
        "2026-12-07T05:21:52+0900", "x026-12-07T05:21:52Z", "2026-12-07T05:21:52Zjunk"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

TEST(MessageJson, ParseRfc5322Date) {
  EXPECT_EQ(parse_rfc5322_date("Mon, 07 Dec 2026 05:21:52 +0000"), at(1796620912000));
  EXPECT_EQ(parse_rfc5322_date("7 Dec 2026 14:21:52 +0900 (JST)"), at(1796620912000));
  EXPECT_EQ(parse_rfc5322_date("Sun,  6 Dec 2026 21:21:52 PST"), at(1796620912000));
  EXPECT_EQ(parse_rfc5322_date("Mon, 07 Dec 26 05:21 GMT"), at(1796620860000));
  EXPECT_EQ(parse_rfc5322_date("Thu, 01 Jan 70 00:00:00 -0000"), at(0));
  for (const char* bad : {"", "yesterday", "Mon, 07 Dex 2026 05:21:52 +0000",
                          "Mon, 32 Dec 2026 05:21:52 +0000", "Mon, 07 Dec 2026 05:21:52 +09",
                          "Mon, 07 Dec 2026 05-21-52 +0000", "07 Dec 2026 05:21:52"}) {
    EXPECT_FALSE(parse_rfc5322_date(bad)) << bad;
  }
}

TEST(MessageJson, SummaryHasMailpitsFields) {
  Value v = parsed(summary_json(sample()));
  ASSERT_EQ(v.kind, Value::Kind::Object);
  for (const char* key : {"ID", "MessageID", "Read", "From", "To", "Cc", "Bcc", "ReplyTo",
                          "Subject", "Created", "Tags", "Size", "Attachments", "Snippet"}) {
    EXPECT_NE(v.get(key), nullptr) << key;
  }
  EXPECT_EQ(v.get("ID")->string, "0123ABC");
  EXPECT_EQ(v.get("MessageID")->string, "m1@app.test");
  EXPECT_TRUE(v.get("Read")->boolean);
  EXPECT_EQ(v.get("From")->get("Name")->string, "Zoë \"Z\" Ünï");
  EXPECT_EQ(v.get("From")->get("Address")->string, "zoe@app.test");
  ASSERT_EQ(v.get("To")->array.size(), 2u);
  EXPECT_EQ(v.get("To")->array[1].get("Name")->string, "Carl");
  EXPECT_EQ(v.get("To")->array[1].get("Address")->string, "carl@x.test");
  EXPECT_EQ(v.get("Bcc")->array[0].get("Address")->string, "hidden@x.test");
  EXPECT_EQ(v.get("ReplyTo")->kind, Value::Kind::Array);
  EXPECT_TRUE(v.get("ReplyTo")->array.empty());
  EXPECT_EQ(v.get("Subject")->string, "Réinitialiser \x01 <b>");
  EXPECT_EQ(v.get("Created")->string, "2026-12-07T05:21:52.123Z");
  EXPECT_EQ(v.get("Tags")->kind, Value::Kind::Array);
  EXPECT_EQ(v.get("Size")->number, 1234);
  EXPECT_EQ(v.get("Attachments")->number, 2);
  EXPECT_EQ(v.get("Snippet")->string, "Hello\nthere");
}

TEST(MessageJson, ListKeepsTheOrderGivenAndTheCounts) {
  ListPage page;
  auto a = std::make_shared<capture::Summary>(sample());
  auto b = std::make_shared<capture::Summary>(sample());
  b->id = "0123ABD";
  page.messages = {b, a};
  page.total = 10;
  page.unread = 4;
  page.messages_count = 7;
  page.messages_unread = 3;
  page.start = 5;
  Value v = parsed(list_json(page));
  EXPECT_EQ(v.get("total")->number, 10);
  EXPECT_EQ(v.get("unread")->number, 4);
  EXPECT_EQ(v.get("count")->number, 2);
  EXPECT_EQ(v.get("messages_count")->number, 7);
  EXPECT_EQ(v.get("messages_unread")->number, 3);
  EXPECT_EQ(v.get("start")->number, 5);
  EXPECT_EQ(v.get("tags")->kind, Value::Kind::Array);
  ASSERT_EQ(v.get("messages")->array.size(), 2u);
  EXPECT_EQ(v.get("messages")->array[0].get("ID")->string, "0123ABD");
  EXPECT_EQ(v.get("messages")->array[1].get("ID")->string, "0123ABC");

  Value empty = parsed(list_json(ListPage{}));
  EXPECT_TRUE(empty.get("messages")->array.empty());
}

mime::Message sample_message() {
  mime::Message m;
  m.headers = {
      {"Received", "",
       "from app (app [127.0.0.1]) by mx.test (hikyaku) with ESMTP id 1; Mon, 7 Dec"},
      {"Authentication-Results", "",
       "mx.test; spf=pass (sender ok) smtp.mailfrom=app.test; dkim=fail reason=\"bad sig\" "
       "header.d=app.test; dmarc=none header.from=app.test"},
      {"Authentication-Results", "", "evil.test; spf=pass"},
      {"Date", "Mon, 07 Dec 2026 05:21:52 +0000", "Mon, 07 Dec 2026 05:21:52 +0000"},
      {"Received", "from a", "from a"},
      {"received", "from b", "from b"},
      {"Subject", "Caf\xc3\xa9", "=?utf-8?q?Caf=C3=A9?="},
      {"List-Unsubscribe", "", " <mailto:u@app.test?subject=x>, (web) <https://app.test/u?a=1>"},
      {"List-Unsubscribe-Post", "", "List-Unsubscribe=One-Click"},
  };
  for (mime::Header& h : m.headers) {
    if (h.value.empty()) {
      h.value = h.raw;  // nothing encoded in these
    }
  }
  m.text = "plain text";
  m.html = "<p>hi</p><img src=\"cid:logo@app\">";
  mime::Part logo;
  logo.part_id = "2.2";
  logo.content_type = "image/png";
  logo.content_id = "logo@app";
  logo.inline_disposition = true;
  logo.data = std::string("\x89PNG\r\n\x1a\n", 8);
  m.inlines.push_back(logo);
  mime::Part pdf;
  pdf.part_id = "3";
  pdf.content_type = "application/pdf";
  pdf.filename = "Rechnung März.pdf";
  pdf.data = "%PDF-1.4 xx";
  m.attachments.push_back(pdf);
  return m;
}

TEST(MessageJson, MessageHasMailpitsFieldsAndOurBadges) {
  mime::Message m = sample_message();
  Value v = parsed(message_json(sample(), m, our_auth_badges(m)));
  for (const char* key :
       {"ID", "MessageID", "From", "To", "Cc", "Bcc", "ReplyTo", "ReturnPath", "Subject",
        "ListUnsubscribe", "Date", "Tags", "Text", "HTML", "Size", "Inline", "Attachments"}) {
    EXPECT_NE(v.get(key), nullptr) << key;
  }
  EXPECT_EQ(v.get("ReturnPath")->string, "bounce@app.test");
  EXPECT_EQ(v.get("Date")->string, "2026-12-07T05:21:52.000Z");
  EXPECT_EQ(v.get("Text")->string, "plain text");
  EXPECT_EQ(v.get("HTML")->string, m.html);
  ASSERT_EQ(v.get("Inline")->array.size(), 1u);
  const Value& logo = v.get("Inline")->array[0];
  EXPECT_EQ(logo.get("PartID")->string, "2.2");
  EXPECT_EQ(logo.get("ContentType")->string, "image/png");
  EXPECT_EQ(logo.get("ContentID")->string, "logo@app");
  EXPECT_EQ(logo.get("FileName")->string, "");
  EXPECT_EQ(logo.get("Size")->number, 8);
  ASSERT_EQ(v.get("Attachments")->array.size(), 1u);
  EXPECT_EQ(v.get("Attachments")->array[0].get("FileName")->string, "Rechnung März.pdf");
  EXPECT_EQ(v.get("Attachments")->array[0].get("Size")->number, 11);

  const Value* lu = v.get("ListUnsubscribe");
  EXPECT_EQ(lu->get("Header")->string,
            "<mailto:u@app.test?subject=x>, (web) <https://app.test/u?a=1>");
  ASSERT_EQ(lu->get("Links")->array.size(), 2u);
  EXPECT_EQ(lu->get("Links")->array[1].string, "https://app.test/u?a=1");
  EXPECT_EQ(lu->get("HeaderPost")->string, "List-Unsubscribe=One-Click");

  // Only the fields of our own authserv-id (the topmost Received's "by").
  const Value* auth = v.get("Authentication");
  ASSERT_NE(auth, nullptr);
  ASSERT_EQ(auth->array.size(), 3u);
  EXPECT_EQ(auth->array[0].get("Method")->string, "spf");
  EXPECT_EQ(auth->array[0].get("Result")->string, "pass");
  EXPECT_EQ(auth->array[0].get("Detail")->string, "smtp.mailfrom=app.test");
  EXPECT_EQ(auth->array[1].get("Method")->string, "dkim");
  EXPECT_EQ(auth->array[1].get("Result")->string, "fail");
  EXPECT_NE(auth->array[1].get("Detail")->string.find("header.d=app.test"), std::string::npos);
  EXPECT_EQ(auth->array[2].get("Method")->string, "dmarc");
  EXPECT_EQ(auth->array[2].get("Result")->string, "none");
}

TEST(MessageJson, DateFallsBackToArrival) {
  mime::Message m;
  m.headers = {{"Date", "garbage", "garbage"}};
  Value v = parsed(message_json(sample(), m, {}));
  EXPECT_EQ(v.get("Date")->string, "2026-12-07T05:21:52.123Z");
  EXPECT_TRUE(v.get("Authentication")->array.empty());
  EXPECT_TRUE(v.get("ListUnsubscribe")->get("Links")->array.empty());
}

TEST(MessageJson, OnlyOurOwnAuthenticationResults) {
  mime::Message m = sample_message();
  m.headers[0].raw = m.headers[0].value = "from app by evil.test; Mon, 7 Dec 2026";
  auto badges = our_auth_badges(m);
  ASSERT_EQ(badges.size(), 1u);
  EXPECT_EQ(badges[0].method, "spf");
  m.headers[0].raw = m.headers[0].value = "from app (by nobody.test)";
  EXPECT_TRUE(our_auth_badges(m).empty());
  m.headers.erase(m.headers.begin());
  EXPECT_TRUE(our_auth_badges(m).empty());  // no Received: nothing is ours
}

// The whole path a message takes: its bytes through the MIME reader, then into Mailpit's shape.
TEST(MessageJson, FromRawMail) {
  const std::string raw =
      "Received: from app ([127.0.0.1]) by mx.test (hikyaku) with ESMTP id X1;\r\n"
      " Mon, 07 Dec 2026 05:21:52 +0000\r\n"
      "Authentication-Results: mx.test; dkim=pass header.d=app.test header.s=sel\r\n"
      "From: =?utf-8?q?Zo=C3=AB?= <zoe@app.test>\r\n"
      "To: bob@far.example\r\n"
      "Subject: =?utf-8?b?UsOpaW5pdGlhbGlzZXI=?=\r\n"
      "Date: Mon, 07 Dec 2026 06:21:52 +0100\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
      "\r\n"
      "--b1\r\n"
      "Content-Type: text/plain; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "caf=E9\r\n"
      "--b1\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.bin\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "AAEC/w==\r\n"
      "--b1--\r\n";
  mime::Message m = mime::parse(raw);
  Value v = parsed(message_json(sample(), m, our_auth_badges(m)));
  EXPECT_EQ(v.get("Text")->string.substr(0, 5), "caf\xc3\xa9");
  EXPECT_EQ(v.get("Date")->string, "2026-12-07T05:21:52.000Z");
  ASSERT_EQ(v.get("Attachments")->array.size(), 1u);
  EXPECT_EQ(v.get("Attachments")->array[0].get("FileName")->string, "r\xc3\xa9sum\xc3\xa9.bin");
  EXPECT_EQ(v.get("Attachments")->array[0].get("PartID")->string, "2");
  EXPECT_EQ(v.get("Attachments")->array[0].get("Size")->number, 4);
  // printf '\x00\x01\x02\xff' | sha256sum (and md5sum, sha1sum)
  const Value* sums = v.get("Attachments")->array[0].get("Checksums");
  ASSERT_NE(sums, nullptr);
  EXPECT_EQ(sums->get("MD5")->string, "0416dab819887333af831f8c765ac2ae");
  EXPECT_EQ(sums->get("SHA1")->string, "c62c27924f4c967f5eddb1850c091d54c7a2ab58");
  EXPECT_EQ(sums->get("SHA256")->string,
            "3d1f57c984978ef98a18378c8166c1cb8ede02c03eeb6aee7e2f121dfeee3e56");
  ASSERT_EQ(v.get("Authentication")->array.size(), 1u);
  EXPECT_EQ(v.get("Authentication")->array[0].get("Result")->string, "pass");
  Value h = parsed(headers_json(m));
  EXPECT_EQ(h.get("Subject")->array[0].string, "=?utf-8?b?UsOpaW5pdGlhbGlzZXI=?=");
  EXPECT_EQ(h.get("Received")->array.size(), 1u);
}

TEST(MessageJson, HeadersByNameAlphabetically) {
  Value v = parsed(headers_json(sample_message()));
  ASSERT_EQ(v.kind, Value::Kind::Object);
  ASSERT_NE(v.get("Received"), nullptr);
  // One key for all spellings, values in message order.
  EXPECT_EQ(v.get("received"), nullptr);
  ASSERT_EQ(v.get("Received")->array.size(), 3u);
  EXPECT_EQ(v.get("Received")->array[2].string, "from b");
  // As written: encoded words kept, like Mailpit.
  EXPECT_EQ(v.get("Subject")->array[0].string, "=?utf-8?q?Caf=C3=A9?=");
  ASSERT_EQ(v.get("Authentication-Results")->array.size(), 2u);
  std::string json = headers_json(sample_message());
  EXPECT_LT(json.find("\"Authentication-Results\""), json.find("\"Date\""));
  EXPECT_LT(json.find("\"List-Unsubscribe\""), json.find("\"List-Unsubscribe-Post\""));
  EXPECT_LT(json.find("\"Received\""), json.find("\"Subject\""));
}

TEST(MessageJson, Info) {
  Value v = parsed(info_json("1.2.3", 5, 2));
  EXPECT_EQ(v.get("Version")->string, "1.2.3");
  EXPECT_EQ(v.get("Messages")->number, 5);
  EXPECT_EQ(v.get("Unread")->number, 2);
  EXPECT_EQ(v.get("Tags")->kind, Value::Kind::Object);
}

}  // namespace
}  // namespace hk::console

// Bodies as real mailers write them: the MIME tree, transfer encodings, charsets, RFC 2231
// parameters, the text/HTML choice, attachments and inline parts, part numbering.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "lib/base/utf8.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {
namespace {

// Test messages are written with LF and turned into CRLF, as they travel.
std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') {
      out += '\r';
    }
    out += c;
  }
  return out;
}

TEST(Body, PlainSinglePart) {
  Message m = parse(crlf("From: a@example.com\nSubject: hi\n\nHello\nWorld\n"));
  EXPECT_EQ(m.text, "Hello\r\nWorld\r\n");
  EXPECT_EQ(m.html, "");
  EXPECT_TRUE(m.attachments.empty());
  EXPECT_TRUE(m.inlines.empty());
  EXPECT_TRUE(m.problems.empty());
  EXPECT_EQ(m.header("subject"), "hi");
}

TEST(Body, NoBodyAtAll) {
  Message m = parse("Subject: only headers");
  EXPECT_EQ(m.headers.size(), 1U);
  EXPECT_EQ(m.text, "");
  Message e = parse("");
  EXPECT_TRUE(e.headers.empty());
}

// Gmail: multipart/alternative, text and HTML in quoted-printable UTF-8.
TEST(Body, GmailAlternative) {
  Message m = parse(crlf(R"(MIME-Version: 1.0
From: Ana <ana@gmail.com>
Date: Mon, 7 Dec 2026 06:00:00 +0100
Message-ID: <CAF=abc@mail.gmail.com>
Subject: =?UTF-8?Q?Caf=C3=A9_tomorrow=3F?=
To: bob@example.com
Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f6"

--000000000000a1b2c3d4e5f6
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 at 10? It's a long line that Gmail wraps with a soft line break =
here.

--000000000000a1b2c3d4e5f6
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Caf=C3=A9 at 10?</div>

--000000000000a1b2c3d4e5f6--
)"));
  EXPECT_EQ(m.header("Subject"), "Café tomorrow?");
  EXPECT_EQ(m.text,
            "Café at 10? It's a long line that Gmail wraps with a soft line break here.\r\n");
  EXPECT_EQ(m.html, "<div dir=\"ltr\">Café at 10?</div>\r\n");
  EXPECT_TRUE(m.attachments.empty());
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
  EXPECT_EQ(snippet(m),
            "Café at 10? It's a long line that Gmail wraps with a soft line break here.");
}

// Thunderbird: mixed > alternative > related, an inline cid image, an attachment with an
// RFC 2231 filename, base64 wrapped at 72 columns.
TEST(Body, ThunderbirdMixedAlternativeRelated) {
  Message m = parse(crlf(R"(Message-ID: <1b2c@example.org>
Date: Mon, 7 Dec 2026 06:00:00 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
From: Ben <ben@example.org>
Subject: Report
Content-Type: multipart/mixed; boundary="------------mixed0123"

This is a multi-part message in MIME format.
--------------mixed0123
Content-Type: multipart/alternative;
 boundary="------------alt4567"

--------------alt4567
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

See the chart.

--------------alt4567
Content-Type: multipart/related;
 boundary="------------rel89ab"

--------------rel89ab
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: 7bit

<html><body><p>See the chart.</p><img src="cid:part1.abc@example.org"></body></html>

--------------rel89ab
Content-Type: image/png; name="chart.png"
Content-Disposition: inline; filename="chart.png"
Content-Id: <part1.abc@example.org>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--------------rel89ab--

--------------alt4567--
--------------mixed0123
Content-Type: application/pdf; name="=?UTF-8?B?QmVyaWNodCDDvGJlciBkYXMgSmFocg==?=.pdf"
Content-Disposition: attachment;
 filename*0*=UTF-8''Bericht%20%C3%BCber%20das%20Jahr%20%32%30%32%36%20mit%20;
 filename*1*=%65inem%20langen%20Namen.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--------------mixed0123--
)"));
  EXPECT_EQ(m.text, "See the chart.\r\n");
  EXPECT_EQ(m.html,
            "<html><body><p>See the chart.</p><img src=\"cid:part1.abc@example.org\"></body>"
            "</html>\r\n");
  ASSERT_EQ(m.inlines.size(), 1U);
  const Part& img = m.inlines[0];
  EXPECT_EQ(img.part_id, "1.2.2");
  EXPECT_EQ(img.content_type, "image/png");
  EXPECT_EQ(img.filename, "chart.png");
  EXPECT_EQ(img.content_id, "part1.abc@example.org");
  EXPECT_TRUE(img.inline_disposition);
  EXPECT_EQ(img.data, std::string("\x89PNG\r\n\x1A\n", 8));
  ASSERT_EQ(m.attachments.size(), 1U);
  const Part& pdf = m.attachments[0];
  EXPECT_EQ(pdf.part_id, "2");
  EXPECT_EQ(pdf.content_type, "application/pdf");
  EXPECT_EQ(pdf.filename, "Bericht über das Jahr 2026 mit einem langen Namen.pdf");
  EXPECT_FALSE(pdf.inline_disposition);
  EXPECT_EQ(pdf.data, "%PDF-1.4\n");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
}

// Outlook: related (type=multipart/alternative) holding the alternative and the images, the
// image with a Content-ID and no Content-Disposition, an attachment name in RFC 2047 inside
// quotes, ks_c_5601-1987 text and a Windows-1252 subject.
TEST(Body, OutlookRelatedWithEncodedNames) {
  Message m = parse(crlf(R"(From: =?ks_c_5601-1987?B?yKux5rW/?= <hong@example.kr>
To: "Smith, John" <john@example.com>
Subject: =?Windows-1252?Q?Quarterly_=93numbers=94?=
Thread-Topic: Quarterly
Content-Language: ko-KR
Content-Type: multipart/mixed;
	boundary="_004_SL2PR01MB1234_"
MIME-Version: 1.0

--_004_SL2PR01MB1234_
Content-Type: multipart/related;
	boundary="_003_SL2PR01MB1234_";
	type="multipart/alternative"

--_003_SL2PR01MB1234_
Content-Type: multipart/alternative;
	boundary="_000_SL2PR01MB1234_"

--_000_SL2PR01MB1234_
Content-Type: text/plain; charset="ks_c_5601-1987"
Content-Transfer-Encoding: base64

vsiz58fPvLy/5A0K
--_000_SL2PR01MB1234_
Content-Type: text/html; charset="ks_c_5601-1987"
Content-Transfer-Encoding: quoted-printable

<html><body><p>=BE=C8=B3=E7=C7=CF=BC=BC=BF=E4</p><img src=3D"cid:image001.png@01DB4=
8A1.2C3D4E50"></body></html>
--_000_SL2PR01MB1234_--

--_003_SL2PR01MB1234_
Content-Type: image/png; name="image001.png"
Content-Description: image001.png
Content-ID: <image001.png@01DB48A1.2C3D4E50>
Content-Transfer-Encoding: base64

iVBORw0KGgo=

--_003_SL2PR01MB1234_--

--_004_SL2PR01MB1234_
Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;
	name="=?ks_c_5601-1987?B?v7m76i54bHN4?="
Content-Description: =?ks_c_5601-1987?B?v7m76i54bHN4?=
Content-Disposition: attachment;
	filename="=?ks_c_5601-1987?B?v7m76i54bHN4?="; size=5;
	creation-date="Mon, 07 Dec 2026 05:00:00 GMT"
Content-Transfer-Encoding: base64

UEsDBAo=

--_004_SL2PR01MB1234_--
)"));
  EXPECT_EQ(m.header("Subject"), "Quarterly “numbers”");
  std::vector<Address> from = parse_address_list(m.headers[0].raw);
  ASSERT_EQ(from.size(), 1U);
  EXPECT_EQ(from[0].name, "홍길동");
  EXPECT_EQ(m.text, "안녕하세요\r\n");
  EXPECT_EQ(m.html,
            "<html><body><p>안녕하세요</p><img src=\"cid:image001.png@01DB48A1.2C3D4E50\">"
            "</body></html>");
  ASSERT_EQ(m.inlines.size(), 1U);
  EXPECT_EQ(m.inlines[0].part_id, "1.2");
  EXPECT_EQ(m.inlines[0].content_id, "image001.png@01DB48A1.2C3D4E50");
  EXPECT_TRUE(m.inlines[0].inline_disposition);  // no disposition, but a Content-ID
  ASSERT_EQ(m.attachments.size(), 1U);
  EXPECT_EQ(m.attachments[0].part_id, "2");
  EXPECT_EQ(m.attachments[0].filename, "예산.xlsx");
  EXPECT_EQ(m.attachments[0].data, std::string("PK\x03\x04\n", 5));
}

// PHPMailer: preamble, 8bit and base64 parts, a quoted filename, an attachment disposition on
// a text/plain part (a CSV), LF line ends throughout.
TEST(Body, PhpMailerMixedWithTextAttachment) {
  Message m = parse(R"(Date: Mon, 7 Dec 2026 05:00:00 +0000
To: Customer <customer@example.com>
From: Shop <shop@example.com>
Subject: Your order
Message-ID: <Zx1@shop.example.com>
X-Mailer: PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)
MIME-Version: 1.0
Content-Type: multipart/mixed;
 boundary="b1=_Zx1AbC"
Content-Transfer-Encoding: 8bit

This is a multi-part message in MIME format.

--b1=_Zx1AbC
Content-Type: multipart/alternative;
 boundary="b2=_Zx1AbC"

--b2=_Zx1AbC
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Thank you for your order – №42.

--b2=_Zx1AbC
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<p>Thank you for your order &ndash; &#8470;42.</p>

--b2=_Zx1AbC--

--b1=_Zx1AbC
Content-Type: text/csv; name="order 42.csv"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="order 42.csv"

aWQscXR5CjQyLDEK

--b1=_Zx1AbC
Content-Type: text/plain; name=notes.txt
Content-Disposition: attachment; filename=notes.txt

not the body

--b1=_Zx1AbC--

)");
  EXPECT_EQ(m.text, "Thank you for your order – №42.\n");
  EXPECT_EQ(m.html, "<p>Thank you for your order &ndash; &#8470;42.</p>\n");
  ASSERT_EQ(m.attachments.size(), 2U);
  EXPECT_EQ(m.attachments[0].part_id, "2");
  EXPECT_EQ(m.attachments[0].filename, "order 42.csv");
  EXPECT_EQ(m.attachments[0].content_type, "text/csv");
  EXPECT_EQ(m.attachments[0].data, "id,qty\n42,1\n");
  EXPECT_EQ(m.attachments[1].part_id, "3");
  EXPECT_EQ(m.attachments[1].filename, "notes.txt");
  EXPECT_EQ(m.attachments[1].data, "not the body\n");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
}

// nodemailer: boundaries full of '-' and '=' (and "?=" in old versions), RFC 2231 filenames with
// continuations, an inline image referenced by cid with a Content-Disposition: inline.
TEST(Body, NodemailerRelatedAndContinuations) {
  Message m = parse(crlf(R"(Content-Type: multipart/mixed;
 boundary="--_NmP-4c0a5c5e2b8f3a1d-Part_1"
From: App <app@example.com>
To: user@example.com
Subject: =?UTF-8?B?V2VsY29tZSDwn46J?=
Message-ID: <a1b2-c3d4@example.com>
Date: Mon, 07 Dec 2026 05:00:00 +0000
MIME-Version: 1.0

----_NmP-4c0a5c5e2b8f3a1d-Part_1
Content-Type: multipart/related;
 type="text/html";
 boundary="----sinikael-?=_2-16078765"

------sinikael-?=_2-16078765
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Welcome =F0=9F=8E=89 <img src=3D"cid:logo@app"></p>
------sinikael-?=_2-16078765
Content-Type: image/gif; name=logo.gif
Content-ID: <logo@app>
Content-Disposition: inline; filename=logo.gif
Content-Transfer-Encoding: base64

R0lGODlhAQABAAAAACw=
------sinikael-?=_2-16078765--

----_NmP-4c0a5c5e2b8f3a1d-Part_1
Content-Type: application/octet-stream;
 name*0*=utf-8''%D0%B4%D0%BE%D0%BA%D1%83%D0%BC%D0%B5%D0%BD%D1%82%20%D1%81;
 name*1*=%20%D0%B4%D0%BB%D0%B8%D0%BD%D0%BD%D1%8B%D0%BC;
 name*2*=%20%D0%B8%D0%BC%D0%B5%D0%BD%D0%B5%D0%BC.bin
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename*0*=utf-8''%D0%B4%D0%BE%D0%BA%D1%83%D0%BC%D0%B5%D0%BD%D1%82%20%D1%81;
 filename*1*=%20%D0%B4%D0%BB%D0%B8%D0%BD%D0%BD%D1%8B%D0%BC;
 filename*2*=%20%D0%B8%D0%BC%D0%B5%D0%BD%D0%B5%D0%BC.bin

AAEC
----_NmP-4c0a5c5e2b8f3a1d-Part_1--
)"));
  EXPECT_EQ(m.header("Subject"), "Welcome 🎉");
  EXPECT_EQ(m.text, "");
  EXPECT_EQ(m.html, "<p>Welcome 🎉 <img src=\"cid:logo@app\"></p>");
  ASSERT_EQ(m.inlines.size(), 1U);
  EXPECT_EQ(m.inlines[0].part_id, "1.2");
  EXPECT_EQ(m.inlines[0].content_id, "logo@app");
  EXPECT_EQ(m.inlines[0].filename, "logo.gif");
  ASSERT_EQ(m.attachments.size(), 1U);
  EXPECT_EQ(m.attachments[0].part_id, "2");
  EXPECT_EQ(m.attachments[0].filename, "документ с длинным именем.bin");
  EXPECT_EQ(m.attachments[0].data, std::string("\0\1\2", 3));
  EXPECT_EQ(snippet(m), "Welcome 🎉");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
}

TEST(Body, ForwardedMessageIsAnAttachment) {
  Message m = parse(crlf(R"(From: a@example.com
Subject: Fwd: hello
Content-Type: multipart/mixed; boundary=XYZ

--XYZ
Content-Type: text/plain

See below.
--XYZ
Content-Type: message/rfc822
Content-Disposition: attachment; filename="hello.eml"

From: b@example.com
Subject: hello
Content-Type: multipart/alternative; boundary=XYZ

--XYZ
Content-Type: text/plain

inner text
--XYZ--
--XYZ--
)"));
  // The inner message uses the same boundary: a conforming sender never does that (RFC 2046
  // §5.1.2), and the outer split ends the attachment at the first delimiter line that matches;
  // the inner text part then reads as a third part of the outer multipart.
  EXPECT_EQ(m.text, "See below.\ninner text");
  ASSERT_FALSE(m.attachments.empty());
  EXPECT_EQ(m.attachments[0].content_type, "message/rfc822");
  EXPECT_EQ(m.attachments[0].part_id, "2");
  EXPECT_EQ(m.attachments[0].filename, "hello.eml");
  EXPECT_TRUE(m.attachments[0].data.starts_with("From: b@example.com\r\n"));

  Message ok = parse(crlf(R"(Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: text/plain

See below.
--outer
Content-Type: message/rfc822

From: b@example.com
Subject: inner
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain

inner text
--inner--

--outer--
)"));
  EXPECT_EQ(ok.text, "See below.");
  ASSERT_EQ(ok.attachments.size(), 1U);
  Message inner = parse(ok.attachments[0].data);
  EXPECT_EQ(inner.header("Subject"), "inner");
  EXPECT_EQ(inner.text, "inner text");
}

TEST(Body, BoundariesPaddingPreambleEpilogueAndPrefixes) {
  // Transport padding after delimiters, a nested boundary that starts with the outer one, a
  // line in the body that starts with the boundary but is not a delimiter.
  Message m =
      parse(crlf("Content-Type: multipart/mixed; boundary=\"abc\"\n\npreamble --abc\n--abc \t\n"
                 "Content-Type: multipart/alternative; boundary=\"abcdef\"\n\n--abcdef\n"
                 "Content-Type: text/plain\n\nline\n--abcx is not a delimiter\n--abcdef--\n"
                 "--abc--   \nepilogue\n--abc\nContent-Type: text/plain\n\nafter the end\n"));
  EXPECT_EQ(m.text, "line\r\n--abcx is not a delimiter");
  EXPECT_TRUE(m.attachments.empty());
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
}

TEST(Body, MissingFinalBoundaryAndNoBoundaryAtAll) {
  Message m = parse(
      crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nfirst\n"
           "--b\nContent-Type: application/zip\n\nUEsDBA==\n"));
  EXPECT_EQ(m.text, "first");
  ASSERT_EQ(m.attachments.size(), 1U);
  EXPECT_EQ(m.attachments[0].data, "UEsDBA==\r\n");  // no encoding given: kept as it is
  ASSERT_EQ(m.problems.size(), 1U);
  EXPECT_NE(m.problems[0].find("no final boundary"), std::string::npos);

  Message none = parse(crlf("Content-Type: multipart/mixed; boundary=b\n\njust text\n"));
  EXPECT_EQ(none.text, "just text\r\n");
  EXPECT_FALSE(none.problems.empty());

  Message no_param = parse(crlf("Content-Type: multipart/mixed\n\njust text\n"));
  EXPECT_EQ(no_param.text, "just text\r\n");
  EXPECT_FALSE(no_param.problems.empty());
}

TEST(Body, TransferEncodingsLenient) {
  // base64 with spaces, garbage, missing padding and two concatenated padded blocks.
  Message b =
      parse(crlf("Content-Type: application/octet-stream\nContent-Transfer-Encoding: BASE64\n\n"
                 "SGVs bG8s\n  IHdv*cmxk\nIQ==SGk=\nSGk\n"));
  ASSERT_EQ(b.attachments.size(), 1U);
  EXPECT_EQ(b.attachments[0].data, "Hello, world!HiHi");
  EXPECT_EQ(b.attachments[0].part_id, "1");

  // quoted-printable: lower-case hex, soft breaks with trailing spaces, bad escapes kept,
  // trailing whitespace dropped, an '=' at the very end.
  Message q = parse(crlf(
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: Quoted-Printable\n\n"
      "caf=c3=a9 soft=  \nbreak =ZZ =4 trailing   \nend="));
  EXPECT_EQ(q.text, "café softbreak =ZZ =4 trailing\r\nend");

  // 8bit/binary/unknown: kept as is; an unknown one is noted.
  Message u = parse(crlf(
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: x-uuencode\n\nraw\n"));
  EXPECT_EQ(u.text, "raw\r\n");
  ASSERT_EQ(u.problems.size(), 1U);
}

TEST(Body, CharsetsOfBodies) {
  struct Case {
    const char* charset;
    std::string bytes;
    const char* text;
  };
  const Case cases[] = {
      {"iso-8859-1",
       "Gr\xFC\xDF"
       "e",
       "Grüße"},
      {"ISO-8859-7", "\xE1\xE2\xE3", "αβγ"},
      {"koi8-r", "\xF0\xD2\xC9\xD7\xC5\xD4", "Привет"},
      {"windows-1250", "\x8A\x9A", "Šš"},
      {"shift_jis", "\x93\xFA\x96\x7B", "日本"},
      {"iso-2022-jp", "\x1B$B@$3&\x1B(B", "世界"},
      {"gb2312", "\xC4\xE3\xBA\xC3", "你好"},
      {"utf-8", "ok \xFF", "ok ÿ"},
      {"x-unknown-thing", "caf\xE9", "café"},
  };
  for (const Case& c : cases) {
    Message m =
        parse("Content-Type: text/plain; charset=\"" + std::string(c.charset) + "\"\n\n" + c.bytes);
    EXPECT_EQ(m.text, c.text) << c.charset;
    EXPECT_TRUE(base::is_valid_utf8(m.text)) << c.charset;
  }
  // A byte order mark is dropped; UTF-16 with one is read by it.
  EXPECT_EQ(parse("Content-Type: text/plain; charset=utf-8\n\n\xEF\xBB\xBFhi").text, "hi");
  EXPECT_EQ(
      parse(std::string("Content-Type: text/html; charset=utf-16\n\n\xFF\xFE<\0b\0>\0", 49)).html,
      "<b>");
  // Unlabelled 8-bit: UTF-8 when valid, windows-1252 otherwise; HTML's own <meta charset>.
  EXPECT_EQ(parse("Subject: x\n\nna\xC3\xAFve").text, "naïve");
  EXPECT_EQ(parse("Subject: x\n\nna\xEFve").text, "naïve");
  EXPECT_EQ(
      parse("Content-Type: text/html\n\n<meta charset=\"koi8-r\"><p>\xF0\xD2\xC9\xD7\xC5\xD4").html,
      "<meta charset=\"koi8-r\"><p>Привет");
}

TEST(Body, Rfc2231AndRfc2047Parameters) {
  struct Case {
    const char* disposition;
    const char* filename;
  };
  const Case cases[] = {
      {"attachment; filename=\"plain.txt\"", "plain.txt"},
      {"attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf", "€ rates.pdf"},
      {"attachment; filename*=iso-8859-1'de'M%FCnchen.txt", "München.txt"},
      {"attachment; filename*=''no%20charset", "no charset"},
      {"attachment; FILENAME*0=\"long \"; FILENAME*1=\"name.txt\"", "long name.txt"},
      {"attachment; filename*1*=b.txt; filename*0*=utf-8''a", "ab.txt"},  // out of order
      {"attachment; filename*0*=utf-8''a; filename*2*=c", "a"},           // a gap ends it
      // RFC 2231 wins over the plain one given for old readers.
      {"attachment; filename=\"fallback.txt\"; filename*=utf-8''%C3%A9t%C3%A9.txt", "été.txt"},
      {"attachment; filename=\"=?UTF-8?Q?r=C3=A9sum=C3=A9?=.pdf\"", "résumé.pdf"},
      {"attachment; filename=\"a \\\"quoted\\\" name\"", "a \"quoted\" name"},
      {"attachment; filename=unquoted name with spaces.txt; size=3",
       "unquoted name with spaces.txt"},
      {"attachment (a comment); filename=\"x.txt\" (another)", "x.txt"},
      {"attachment; filename=\"raw \xC3\xBCtf8.txt\"", "raw ütf8.txt"},
      {"attachment; filename=\"raw l\xE4tin.txt\"", "raw lätin.txt"},
      {"attachment; filename*=utf-8''%ZZbad%2", "%ZZbad%2"},
      {"attachment; filename*999*=x; filename*1000*=y", ""},
  };
  for (const Case& c : cases) {
    Message m = parse(std::string("Content-Type: application/octet-stream\nContent-Disposition: ") +
                      c.disposition + "\n\ndata");
    ASSERT_EQ(m.attachments.size(), 1U) << c.disposition;
    EXPECT_EQ(m.attachments[0].filename, c.filename) << c.disposition;
  }
  // The name parameter of Content-Type when there is no filename.
  Message n = parse("Content-Type: image/jpeg; name*=utf-8''%E5%86%99%E7%9C%9F.jpg\n\nx");
  ASSERT_EQ(n.attachments.size(), 1U);
  EXPECT_EQ(n.attachments[0].filename, "写真.jpg");
  EXPECT_EQ(n.attachments[0].content_type, "image/jpeg");
}

TEST(Body, InlineVersusAttachment) {
  Message m = parse(crlf(R"(Content-Type: multipart/mixed; boundary=B

--B
Content-Type: text/plain

body
--B
Content-Type: image/jpeg
Content-Disposition: inline

a
--B
Content-Type: image/png
Content-Disposition: attachment
Content-ID: <attached@x>

b
--B
Content-Type: image/gif
Content-ID:   < bare@x >  (comment)

c
--B
Content-Type: application/octet-stream

d
--B--
)"));
  EXPECT_EQ(m.text, "body");
  ASSERT_EQ(m.inlines.size(), 2U);
  EXPECT_EQ(m.inlines[0].part_id, "2");
  EXPECT_EQ(m.inlines[0].content_id, "");
  EXPECT_EQ(m.inlines[1].part_id, "4");
  EXPECT_EQ(m.inlines[1].content_id, "bare@x");
  ASSERT_EQ(m.attachments.size(), 2U);
  EXPECT_EQ(m.attachments[0].part_id, "3");
  EXPECT_EQ(m.attachments[0].content_id, "attached@x");
  EXPECT_FALSE(m.attachments[0].inline_disposition);
  EXPECT_EQ(m.attachments[1].part_id, "5");
}

TEST(Body, AppleMailTextAroundImagesAndListFooter) {
  Message m = parse(crlf(R"(Content-Type: multipart/mixed; boundary="Apple-Mail=_1"

--Apple-Mail=_1
Content-Type: multipart/alternative; boundary="Apple-Mail=_2"

--Apple-Mail=_2
Content-Type: text/plain; charset=us-ascii

before
--Apple-Mail=_2
Content-Type: text/plain; charset=us-ascii

another alternative
--Apple-Mail=_2--

--Apple-Mail=_1
Content-Type: image/jpeg; name=x.jpg
Content-Disposition: inline; filename=x.jpg

j
--Apple-Mail=_1
Content-Type: text/plain; charset=us-ascii

after
--Apple-Mail=_1--
)"));
  EXPECT_EQ(m.text, "before\nafter");
  ASSERT_EQ(m.attachments.size(), 1U);  // the second alternative
  EXPECT_EQ(m.attachments[0].part_id, "1.2");
  ASSERT_EQ(m.inlines.size(), 1U);
  EXPECT_EQ(m.inlines[0].part_id, "2");
}

TEST(Body, DigestDefaultsToMessages) {
  Message m = parse(crlf(R"(Content-Type: multipart/digest; boundary=D

--D

From: one@example.com
Subject: one

first
--D
Content-Type: text/plain

not a message
--D--
)"));
  ASSERT_EQ(m.attachments.size(), 1U);
  EXPECT_EQ(m.attachments[0].content_type, "message/rfc822");
  EXPECT_EQ(m.attachments[0].part_id, "1");
  EXPECT_EQ(m.text, "not a message");
}

TEST(Body, BadContentTypeIsText) {
  Message m = parse("Content-Type: garbage\n\nhello");
  EXPECT_EQ(m.text, "hello");
  EXPECT_EQ(m.problems.size(), 1U);
  Message upper = parse("Content-Type: TEXT/HTML; CHARSET=UTF-8\n\n<b>x</b>");
  EXPECT_EQ(upper.html, "<b>x</b>");
}

TEST(Body, HeaderAndBodyWithoutEmptyLineInPart) {
  Message m =
      parse(crlf("Content-Type: multipart/mixed; boundary=z\n\n--z\nno headers here\n--z\n"
                 "\nempty headers\n--z--\n"));
  EXPECT_EQ(m.text, "no headers here\nempty headers");
}

// A DSN (RFC 3464) as hikyaku and Postfix send them, and an S/MIME signed message: the
// machine-readable parts and the signature are attachments, the human text is the body.
TEST(Body, DeliveryReportAndSignedMessage) {
  Message dsn = parse(crlf(R"(From: MAILER-DAEMON@mx.example.com
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status;
	boundary="DSN.1234/mx.example.com"

This is a MIME-encapsulated message.

--DSN.1234/mx.example.com
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--DSN.1234/mx.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; nobody@example.org
Action: failed
Status: 5.1.1

--DSN.1234/mx.example.com
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: a@example.com
Subject: hello

--DSN.1234/mx.example.com--
)"));
  EXPECT_EQ(dsn.text,
            "I'm sorry to have to inform you that your message could not be delivered.\r\n");
  ASSERT_EQ(dsn.attachments.size(), 2U);
  EXPECT_EQ(dsn.attachments[0].content_type, "message/delivery-status");
  EXPECT_EQ(dsn.attachments[0].part_id, "2");
  EXPECT_EQ(dsn.attachments[1].content_type, "text/rfc822-headers");
  EXPECT_TRUE(dsn.problems.empty()) << dsn.problems.front();

  Message signed_msg = parse(crlf(
      R"(Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="----=_Part_0_1"

------=_Part_0_1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit

Signed text.
------=_Part_0_1
Content-Type: application/pkcs7-signature; name=smime.p7s; smime-type=signed-data
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7s"

MIAGCSqGSIb3DQEHAqCAMIACAQE=
------=_Part_0_1--
)"));
  EXPECT_EQ(signed_msg.text, "Signed text.");
  ASSERT_EQ(signed_msg.attachments.size(), 1U);
  EXPECT_EQ(signed_msg.attachments[0].filename, "smime.p7s");
  EXPECT_EQ(signed_msg.attachments[0].part_id, "2");
}

}  // namespace
}  // namespace hk::mime

// snippet() and html_to_text().
#include <gtest/gtest.h>

#include <string>

#include "lib/base/utf8.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {
namespace {

TEST(Snippet, TextBodyWhitespaceCollapsed) {
  Message m;
  m.text = "  Hello,\r\n\r\n  this is\tthe   body.\r\n";
  m.html = "<p>ignored</p>";
  EXPECT_EQ(snippet(m), "Hello, this is the body.");
}

TEST(Snippet, HtmlOnly) {
  Message m;
  m.html =
      "<!DOCTYPE html><html><head><title>Newsletter</title><style>p{color:red}</style>"
      "<script>alert('x')</script></head><body><!-- hidden --><div style=\"display:none\">"
      "Preheader&nbsp;&zwnj;&nbsp;&zwnj;</div><p>Fish &amp; Chips &lt;3 &#8364;5 &#x263A; "
      "&copy; &unknown; caf&eacute;</p><SCRIPT type=\"text/javascript\">var a = '<p>';</SCRIPT>"
      "<a href=\"x>y\" title='it&apos;s'>link</a> a < b</body></html>";
  EXPECT_EQ(snippet(m), "Preheader Fish & Chips <3 €5 ☺ © &unknown; café link a < b");
}

TEST(Snippet, CutAtCharactersNotBytes) {
  Message m;
  m.text = "äöü äöü äöü";
  EXPECT_EQ(snippet(m, 5), "äöü ä");
  EXPECT_EQ(snippet(m, 4), "äöü");  // never ends on the space
  EXPECT_EQ(snippet(m, 0), "");
  m.text = std::string(1000, 'x');
  EXPECT_EQ(snippet(m).size(), 250U);
}

TEST(Snippet, FromParsedMessage) {
  Message m = parse(
      "Content-Type: text/html; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "<p>Gr=FC=DFe aus M=FCnchen</p>\r\n");
  EXPECT_EQ(snippet(m), "Grüße aus München");
}

TEST(HtmlToText, UnclosedAndHostile) {
  EXPECT_EQ(html_to_text("<script>never closed"), "never closed");
  EXPECT_EQ(html_to_text("a<br>b<p>c</p>d"), "a\nb\nc\nd");
  EXPECT_EQ(html_to_text("&#0; &#xD800; &#99999999999;"), "\xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD");
  std::string hostile;
  for (int i = 0; i < 50000; ++i) {
    hostile += "<script><style><!--<head>";
  }
  std::string out = html_to_text(hostile);
  EXPECT_TRUE(base::is_valid_utf8(out));
  EXPECT_TRUE(base::is_valid_utf8(html_to_text("\xFF\xFE<b>\xC3</b>")));
}

}  // namespace
}  // namespace hk::mime

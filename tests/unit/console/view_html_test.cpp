// daemon/console/view_html.hpp: the view's CSP, cid: rewriting, download headers.
#include "daemon/console/view_html.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::console {
namespace {

TEST(ViewHtml, CspKeepsScriptsOffAndRemoteImagesOnRequest) {
  std::string off = view_csp(false);
  std::string on = view_csp(true);
  for (const std::string& csp : {off, on}) {
    EXPECT_EQ(csp.rfind("sandbox", 0), 0u) << csp;
    EXPECT_EQ(csp.find("allow-scripts"), std::string::npos);
    EXPECT_EQ(csp.find("allow-same-origin"), std::string::npos);
    EXPECT_NE(csp.find("script-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("style-src 'unsafe-inline'"), std::string::npos);
    EXPECT_NE(csp.find("frame-ancestors 'self'"), std::string::npos);
  }
  EXPECT_NE(off.find("img-src 'self' data:;"), std::string::npos) << off;
  EXPECT_EQ(off.find("http:"), std::string::npos);
  EXPECT_NE(on.find("img-src 'self' data: http: https:;"), std::string::npos) << on;
}

TEST(ViewHtml, RewritesKnownCidsOnly) {
  mime::Part a, b;
  a.part_id = "2";
  a.content_id = "logo@x";
  b.part_id = "3.1";
  b.content_id = "a b%c";
  std::vector<const mime::Part*> parts = {&a, &b};
  const std::string prefix = "/api/v1/message/ID1/part/";
  EXPECT_EQ(rewrite_cid("<img src=\"cid:logo@x\"><img src='CID:a%20b%25c'>"
                        "<div style=\"background:url(cid:logo@x)\"><img src=cid:unknown@x>",
                        parts, prefix),
            "<img src=\"/api/v1/message/ID1/part/2\"><img src='/api/v1/message/ID1/part/3.1'>"
            "<div style=\"background:url(/api/v1/message/ID1/part/2)\"><img src=cid:unknown@x>");
  EXPECT_EQ(rewrite_cid("no refs; cid", parts, prefix), "no refs; cid");
  EXPECT_EQ(rewrite_cid("cid:", parts, prefix), "cid:");
  EXPECT_EQ(rewrite_cid("x cid:logo@x", parts, prefix), "x /api/v1/message/ID1/part/2");
  mime::Part nocid;
  nocid.part_id = "9";
  EXPECT_EQ(rewrite_cid("cid:", {&nocid}, prefix), "cid:");
}

TEST(ViewHtml, ContentDisposition) {
  EXPECT_EQ(content_disposition(""), "attachment");
  EXPECT_EQ(content_disposition("report.pdf"), "attachment; filename=\"report.pdf\"");
  EXPECT_EQ(content_disposition("Rechnung März.pdf"),
            "attachment; filename=\"Rechnung M_rz.pdf\"; "
            "filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf");
  EXPECT_EQ(content_disposition("a\"b\\c\r\nd.txt"),
            "attachment; filename=\"a_b_c__d.txt\"; filename*=UTF-8''a%22b%5Cc%0D%0Ad.txt");
  EXPECT_EQ(content_disposition("../../etc/passwd"),
            "attachment; filename=\".._.._etc_passwd\"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd");
}

TEST(ViewHtml, SafeContentType) {
  EXPECT_EQ(safe_content_type("image/png"), "image/png");
  EXPECT_EQ(safe_content_type("Application/VND.ms-excel"), "application/vnd.ms-excel");
  EXPECT_EQ(safe_content_type("text/html\r\nX-Evil: 1"), "application/octet-stream");
  EXPECT_EQ(safe_content_type("image/png; name=x"), "application/octet-stream");
  EXPECT_EQ(safe_content_type(""), "application/octet-stream");
  EXPECT_EQ(safe_content_type("/png"), "application/octet-stream");
}

}  // namespace
}  // namespace hk::console

// What the message views and the part downloads send besides the bytes: the HTML body with its
// cid: references pointed at the part URL, the Content-Security-Policy that keeps a captured HTML
// body inert in the console's iframe, and the Content-Disposition of a download. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/mime/mime.hpp"

namespace hk::console {

// The CSP of /view/{ID}.html. `sandbox` without allow-scripts and allow-same-origin: the body
// runs in an opaque origin with no scripts, forms or plugins whatever the iframe's attributes;
// script-src 'none' says it twice. Images: our own URLs (the cid: parts) and data: only, unless
// `remote_images` (the user pressed "show images"), which adds http: and https:. Only the
// console's own pages may frame it.
std::string view_csp(bool remote_images);

// `html` with every cid:CONTENT-ID URL (RFC 2392, percent-encoded) that names one of `parts`
// replaced by PART_URL_PREFIX + that part's PartID ("/api/v1/message/ID/part/" + "2.1"). Other
// cid: URLs are left as they are (they load nothing).
std::string rewrite_cid(std::string_view html, const std::vector<const mime::Part*>& parts,
                        std::string_view part_url_prefix);

// Content-Disposition of a part download (RFC 6266): attachment, a filename= with an ASCII
// stand-in (quoted, no quotes, backslashes or controls in it) and, when the name is not plain
// ASCII, filename*=UTF-8''percent-encoded (RFC 8187). "attachment" alone when `filename` is "".
std::string content_disposition(std::string_view filename);

// A media type fit for a Content-Type header: type/subtype of RFC 6838 characters only, else
// application/octet-stream (the part's type comes from anybody's mail).
std::string safe_content_type(std::string_view type);

}  // namespace hk::console

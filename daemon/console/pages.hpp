// The pieces of the console's page serving (pages.cpp) that are pure functions, for its tests:
// finding a built-in asset, its Content-Type and cache validators, and filling in index.html.
#pragma once

#include <string>
#include <string_view>

#include "daemon/console/assets.hpp"

namespace hk::console {

// The built-in asset of that name, or null.
const EmbeddedAsset* find_asset(std::string_view name);
// The Content-Type for a file name, from its suffix; application/octet-stream when unknown.
std::string_view asset_content_type(std::string_view name);
// The version that index.html puts into asset URLs (?v=…): a prefix of the content's SHA-256.
std::string asset_version(const EmbeddedAsset& asset);
// The strong ETag (RFC 9110 §8.8.3) of an asset: its SHA-256, quoted.
std::string asset_etag(const EmbeddedAsset& asset);
// index.html with "{{csrf_token}}" replaced by the token and "{{asset:NAME}}" by NAME's versioned
// URL, both HTML-escaped; any other "{{…}}" is left as it is.
std::string render_index(std::string_view tmpl, std::string_view csrf_token);

}  // namespace hk::console

// The smart-host presets of [[relay]] preset = "...": the submission host, port and TLS mode each
// provider documents, so that an operator writes the provider's name instead of its settings
// (docs/relay.md says, per provider, what the username and password are).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/config/config.hpp"

namespace hk::config {

struct RelayPreset {
  std::string host;
  uint16_t port = 587;
  RelayTls tls = RelayTls::StartTls;
};

// The preset called `name` ("gmail", "ses:eu-west-1", "mailgun:eu", "zoho-pro:eu"; lower case);
// nullopt with `why` set ("unknown preset ..., valid: ...", or what is wrong with the region).
std::optional<RelayPreset> relay_preset(std::string_view name, std::string& why);

// Every form a preset may take, for error messages and docs: "gmail", "outlook", ...,
// "ses:REGION", "mailgun[:eu]", "zoho[:REGION]", ...
const std::string& relay_preset_forms();

}  // namespace hk::config

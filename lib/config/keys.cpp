// The list of keys and the names of RelayTls, both taken from the table in keys.hpp.
#include "lib/config/keys.hpp"

namespace hk::config {

const std::vector<KeyName>& known_keys() {
  static const std::vector<KeyName> all = [] {
    std::vector<KeyName> out;
    const auto add = [&](std::string_view section, std::string_view name, const auto&,
                         const auto&) {
      out.push_back({std::string(section), std::string(name)});
    };
    const Config config;  // only to name the members
    const Relay relay;
    keys::for_each_key(config, add);
    keys::for_each_relay_key(relay, add);
    return out;
  }();
  return all;
}

std::string_view to_string(RelayTls tls) {
  return keys::name_of(keys::Choice{keys::kRelayTls}, tls);
}

std::string_view to_string(SrsMode mode) {
  return keys::name_of(keys::Choice{keys::kSrsModes}, mode);
}

}  // namespace hk::config

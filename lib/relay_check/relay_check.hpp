// test-relay's core, shared by `hikyaku-util test-relay` and the console's relay test: the client
// settings a [[relay]] gives, the sender and the (DKIM-signed) text of the test message, and the
// verdict over the steps delivery::probe() reports. The callers print or render the steps.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.hpp"
#include "lib/dkim/keyring.hpp"
#include "lib/smtp_client/smtp_client.hpp"

namespace hk::relay_check {

// The client settings the daemon delivers through `relay` with, each step bounded by `timeout`.
delivery::ClientOptions client_options(const config::Config& cfg, const config::Relay& relay,
                                       std::chrono::seconds timeout);

// An address as an envelope path takes it; nullopt when `text` is not one.
std::optional<std::string> mailbox(const std::string& text);

// The sender of the test message: `from` when given, else the relay's username when it is an
// address, else postmaster@hostname.
std::string test_sender(const config::Config& cfg, const config::Relay& relay,
                        const std::optional<std::string>& from);

// The test message through relay number `number` (1-based), DKIM-signed with every key of the
// From domain when `keys` has some: `signed_with` names them ("d=… s=…"), `warnings` gets the
// keys that failed to sign.
std::string test_message(const config::Config& cfg, const config::Relay& relay, size_t number,
                         const std::string& from, const std::string& to, const dkim::Keys* keys,
                         std::string& signed_with, std::vector<std::string>& warnings);

// Whether the probe's steps say the relay works: every step ok, except that a missing 221 after
// a good session is no fault of the relay's; `why` names the first failed step ("auth: …").
bool works(const std::vector<delivery::ProbeStep>& steps, std::string& why);

}  // namespace hk::relay_check

// The JSON of hikyaku's own console endpoints (docs/api.md, "hikyaku's own endpoints"), built
// from plain values so that the building is a pure function: the queue page, the delivery log,
// the relay test, check-dns and the parts of health that the status reply lacks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/queue/delivery_log.hpp"
#include "lib/config/config.hpp"
#include "lib/dns_check/dns_check.hpp"
#include "lib/queue/envelope.hpp"
#include "lib/smtp_client/smtp_client.hpp"

namespace hk::server {

// RFC 3339 in UTC with whole seconds: "2026-12-07T05:01:53Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

struct QueuedMessage {
  queue::Envelope env;  // with its recipients' state
  uint64_t size = 0;    // the message bytes
};

// {"total":N,"start":S,"count":C,"messages":[{"ID","Created","From","Size","Recipients":[{
// "Address","Local","State","Attempts","LastReply","NextAttempt"}]}]}; NextAttempt "" unless
// pending (a never-tried recipient is due when the message was queued).
std::string queue_page_json(size_t total, size_t start, const std::vector<QueuedMessage>& page);

// {"events":[{"Time","ID","Recipient","Via","Result","Reply"}]}, in the order given.
std::string delivery_events_json(const std::vector<queue::DeliveryEvent>& events);

// {"Relay":N,"Host","Port","Steps":[{"Step","Ok","Detail"}],"Ok"[,"Error"]}.
std::string relay_test_result_json(size_t relay, const config::Relay& r,
                                   const std::vector<delivery::ProbeStep>& steps, bool ok,
                                   const std::string& why);

// {"Domain","Rows":[{"What","Status","Detail"}],"Ok"}.
std::string dns_rows_json(const std::string& domain, const std::vector<dns_check::Row>& rows);

struct DkimKeyInfo {
  std::string domain, selector, algorithm;
};

// {"Status":<the status reply>,"Console":[addresses],"Domains":[the local domains],
// "DkimKeys":[{"Domain","Selector","Algorithm"}],"Relays":[{"Relay","Host","Port","Tls",
// "Username","Domains"}]}. `status` is the control socket's reply, already JSON.
std::string health_page_json(const std::string& status, const std::vector<std::string>& console,
                             const std::vector<std::string>& domains,
                             const std::vector<DkimKeyInfo>& keys,
                             const std::vector<config::Relay>& relays);

}  // namespace hk::server

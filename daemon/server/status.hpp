// The daemon's answer to the control request "status": what `hikyaku-util status` shows, as one
// line of JSON (RFC 8259) built from plain values, so that the building is a pure function.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certs/cert_store.hpp"

namespace hk::server {

// A reload that failed, kept until the next reload of the same thing succeeds (then `resolved`).
struct ReloadError {
  std::string what;  // certs, dkim, domains, config, srs
  std::chrono::system_clock::time_point at;
  std::string error;
  bool resolved = false;
};

struct StatusInput {
  std::string version;
  std::string hostname;
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point now;
  struct Listener {
    std::string kind;     // smtp, submission, submission_tls, metrics, control
    std::string address;  // "127.0.0.1:25", or the socket's path
  };
  std::vector<Listener> listeners;
  size_t queue_messages = 0;
  size_t queue_in_flight = 0;
  std::optional<std::chrono::system_clock::time_point> queue_oldest;
  // Growth of the delivery counters over the last hour (RecentCounts).
  uint64_t delivered = 0, deferred = 0, bounced = 0, expired = 0, dsn_sent = 0;
  std::vector<certs::CertInfo> certificates;
  std::vector<ReloadError> reload_errors;
};

// At most this many certificates and reload errors are listed, and error texts are cut at
// kMaxErrorText bytes, so that the reply stays far below the client's limit
// (control::kMaxReply).
inline constexpr size_t kMaxStatusCertificates = 100;
inline constexpr size_t kMaxErrorText = 500;

std::string status_json(const StatusInput& in);

}  // namespace hk::server

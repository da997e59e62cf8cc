// The back-off file, DATA_DIR/destinations: the destinations (recipient domains, or smart hosts as
// "relay:HOST") that answered with a rate or reputation deferral and are left alone for a while.
// Written by the daemon's delivery (daemon/delivery/destinations.cpp), read back at its start and
// by `hikyaku-util queue list`. Format: docs/delivery.md.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hk::queue {

struct Backoff {
  std::string destination;  // "gmail.com", "relay:smtp.example.net"
  unsigned level = 0;       // deferrals in a row: the wait was backoff_min * 2^(level-1)
  std::chrono::system_clock::time_point since;  // when the last deferral came
  std::chrono::system_clock::time_point until;  // no delivery is tried before this
  std::string reply;                            // the deferral, "421 4.7.28 rate limited"
};

inline std::filesystem::path backoff_path(const std::filesystem::path& data_dir) {
  return data_dir / "destinations";
}

// One line per destination: "DESTINATION LEVEL SINCE UNTIL REPLY" (times in Unix seconds), after
// a comment line; line breaks in the reply become spaces.
std::string format_backoffs(const std::vector<Backoff>& list);
// The lines that parse; anything else (a comment, a damaged line) is skipped.
std::vector<Backoff> parse_backoffs(std::string_view text);

}  // namespace hk::queue

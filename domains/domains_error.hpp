// DomainsError: the one exception of hk_domains, thrown only while loading or saving files
// (startup, reload, hikyaku-util); its text names the file and line: "path:12: message".
#pragma once

#include <stdexcept>

namespace hk::domains {

struct DomainsError : std::runtime_error {
  using runtime_error::runtime_error;
};

}  // namespace hk::domains

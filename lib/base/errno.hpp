// The calling thread's errno as a std::error_code, for the POSIX calls that report through it.
#pragma once

#include <cerrno>
#include <system_error>

namespace hk::base {

// Read errno right after the failing call: anything in between (even logging) may change it.
inline std::error_code errno_code() { return {errno, std::generic_category()}; }

}  // namespace hk::base

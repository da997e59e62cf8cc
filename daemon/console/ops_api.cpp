// Stub until the console-operations engineer's work lands.
#include "daemon/console/routes.hpp"

namespace hk::console {

void add_ops_api(Router& /*router*/, Backend& /*backend*/) {}

}  // namespace hk::console

// Stub until the API engineer's work lands.
#include "daemon/console/routes.hpp"

namespace hk::console {

void add_mailpit_api(Router& /*router*/, capture::CaptureStore* /*store*/) {}

}  // namespace hk::console

// Stub until the console-pages engineer's work lands.
#include "daemon/console/routes.hpp"

namespace hk::console {

void add_pages(Router& /*router*/) {}

}  // namespace hk::console

// The routes of the console's address, each group registered by its own file. The console
// server (console_server.cpp) builds one Router at start with all of them.
#pragma once

#include "daemon/console/http.hpp"

namespace hk::capture {
class CaptureStore;
}

namespace hk::console {

class Backend;

// Mailpit's /api/v1 (the common part), hikyaku's wait-for-message and live events, and the
// message views the console's iframe loads (mailpit_api.cpp). `store` is null when capture mode
// is off: the list is then empty and the message calls answer 404.
void add_mailpit_api(Router& router, capture::CaptureStore* store);
// hikyaku's own endpoints for the queue, the delivery log and health (ops_api.cpp).
void add_ops_api(Router& router, Backend& backend);
// The pages and their static assets, built into the program (pages.cpp).
void add_pages(Router& router);

}  // namespace hk::console

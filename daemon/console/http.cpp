// Stub until the console-server engineer's work lands.
#include "daemon/console/http.hpp"

namespace hk::console {

void Router::add(http::verb method, std::string pattern, Handler handler) {
  (void)method;
  (void)pattern;
  (void)handler;
}
void Router::add_events(std::string pattern, EventsHandler handler) {
  (void)pattern;
  (void)handler;
}
Router::Match Router::match(http::verb /*method*/, std::string_view /*path*/) const { return {}; }

}  // namespace hk::console

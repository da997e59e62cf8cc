// Stub until the capture-store engineer's work lands.
#include "daemon/capture/capture_store.hpp"

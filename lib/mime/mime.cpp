// Stub until the lib/mime engineer's work lands.
#include "lib/mime/mime.hpp"

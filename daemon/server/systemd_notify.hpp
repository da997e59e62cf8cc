// The daemon's state as systemd's Type=notify service manager wants to hear it (sd_notify(3)):
// READY=1 once it serves, RELOADING=1 … READY=1 around a reload, STOPPING=1 when it stops. Outside
// systemd (no NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <string>

namespace hk::server {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();

}  // namespace hk::server

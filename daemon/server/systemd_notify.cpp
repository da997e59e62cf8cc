// sd_notify(3) from libsystemd: it knows the socket's forms (path, abstract) and credentials,
// which a hand-written datagram would have to follow release by release.
#include "daemon/server/systemd_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

namespace hk::server {

namespace {

void send(const std::string& state) {
  // 0: NOTIFY_SOCKET stays in the environment (hikyaku starts no children that could misuse it).
  (void)sd_notify(0, state.c_str());
}

}  // namespace

void notify_ready(const std::string& status) { send("READY=1\nSTATUS=" + status); }

void notify_reloading() {
  // systemd 253+ wants the monotonic time with RELOADING=1 (Type=notify-reload); older ones ignore
  // it.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
              static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { send("STOPPING=1"); }

}  // namespace hk::server

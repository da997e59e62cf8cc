// Loopback ports for test servers: a free port, bound sockets, and whether a port accepts TCP.
#pragma once

namespace hk::test {

// A port on 127.0.0.1 free for both UDP and TCP at the time of the call (another process may
// take it before the caller binds it: retry then). Throws std::runtime_error if none is found.
unsigned short free_port();

// A socket of `type` (SOCK_DGRAM, SOCK_STREAM) bound to 127.0.0.1:`port` (0: any), close-on-exec;
// -1 on failure.
int bind_loopback(int type, unsigned short port);

// The local port of a bound socket.
unsigned short local_port(int fd);

// True if a TCP connection to 127.0.0.1:`port` succeeds now.
bool tcp_accepts(unsigned short port);

}  // namespace hk::test

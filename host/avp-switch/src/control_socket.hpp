// The switch's control socket: a UNIX stream socket, one text command line
// per connection, one JSON reply line ({"ok":...}) before the switch closes it.
#pragma once

#include <sys/types.h>

#include <string>

namespace avpsw {

// Binds and listens with `mode` (e.g. 0600); refuses a path another live
// process answers on, replaces a stale socket file. -1 and `error` on failure.
int unix_listen_exclusive(const std::string& path, mode_t mode, std::string& error);
// Who may use the switch's sockets: root, or the switch's own user.
bool peer_allowed(int fd, uid_t* uid, pid_t* pid);
// Client side for `avp-switch ctl`: sends `line`, returns the reply.
bool control_call(const std::string& path, const std::string& line, std::string& reply, std::string& error);

}  // namespace avpsw

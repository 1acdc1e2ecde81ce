// The switch's control socket: a UNIX stream socket, one text command line
// per connection, one JSON reply line ({"ok":...}) before the switch closes it.
#pragma once

#include <string>

namespace avpsw {

// Binds and listens; refuses a socket path another live switch answers on.
int control_listen(const std::string& path, std::string& error);
// Reads one line (non-blocking socket, short wait); false on EOF or junk.
bool control_read_line(int fd, std::string& line);
void control_reply(int fd, const std::string& json_line);
// Client side for `avp-switch ctl`: sends `line`, returns the reply.
bool control_call(const std::string& path, const std::string& line, std::string& reply, std::string& error);

}  // namespace avpsw

#include "gsdk/service_notify.h"

#include <systemd/sd-daemon.h>
#include <string>

namespace gsdk {

void notify_ready(const char* status) { sd_notify(0, ("READY=1\nSTATUS=" + std::string(status)).c_str()); }
void notify_status(const char* status) { sd_notify(0, ("STATUS=" + std::string(status)).c_str()); }
void notify_stopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace gsdk

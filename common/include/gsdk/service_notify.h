// systemd readiness (Type=notify) and status; no-ops outside systemd.
#pragma once

namespace gsdk {

void notify_ready(const char* status);
void notify_status(const char* status);
void notify_stopping();

}  // namespace gsdk

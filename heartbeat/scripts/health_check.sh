#!/bin/sh
# Example HEALTH_CHECK_SCRIPT: exit 0 when healthy; anything else reports the
# guest unhealthy with CORRECTIVE_ACTION, this script's output as the reason.
avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
if [ "${avail_kb:-0}" -lt 32768 ]; then
    echo "only ${avail_kb} kB of memory available"
    exit 1
fi
exit 0

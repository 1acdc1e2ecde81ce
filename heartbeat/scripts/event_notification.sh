#!/bin/sh
# Example EVENT_NOTIFICATION_SCRIPT, called as: event_notification.sh EVENT NOTIFICATION
# (EVENT: stop, reboot, pause, live_migrate_begin, ...; NOTIFICATION: revocable or irrevocable).
# Exit 0 accepts a vote (or completes a notification), 1 rejects a vote.
event=$1
notification=$2
if [ "$notification" = revocable ] && [ -e /etc/guest-heartbeat/block-"$event" ]; then
    echo "blocked by /etc/guest-heartbeat/block-$event"
    exit 1
fi
exit 0

#!/bin/sh
# The packaged-guest scenario, run by gsdk-scenario.service once the Debian 12
# test guest reached multi-user.target. Checks what an operator would after
# installing the packages: udev and systemd started guest-heartbeatd and
# server-groupd for their ports, the journal has their lines at their
# priorities, an example VNF registers and the host sees it healthy,
# `systemctl reload` applies a new interval that the host then uses, a
# server-group example VNF's broadcast and status query reach the host's
# relay, server-groupd reloads, guest-scaled (enabled at installation) serves
# cgcs.scale and takes a vCPU offline and back at the host's request, and
# unplugging each port stops its daemon.
# Talks to the host-side driver (run_guest.py) over the gsdk.control port.
exec </dev/null >/dev/ttyS0 2>&1
scenario=packaged-guest
. /usr/local/lib/gsdk/lib.sh

report() {
    if [ "$1" = 0 ]; then
        echo "GSDK-SCENARIO-RESULT $scenario PASS"
        code='\000'
    else
        echo "GSDK-SCENARIO-RESULT $scenario FAIL failures=$1"
        code='\001'
    fi
    # Lets the UART send the marker before QEMU leaves through the exit port.
    stty -F /dev/ttyS0 "$(stty -F /dev/ttyS0 -g)" 2>/dev/null || sleep 1
    printf "$code" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
    systemctl poweroff --force --force
}

unit=guest-heartbeatd.service
conf=/etc/guest-heartbeat/guest_heartbeat.conf
sg_unit=server-groupd.service
gs_unit=guest-scaled.service
journal_has() {   # journal_has PRIORITY TEXT [UNIT]: the daemon logged TEXT at PRIORITY or more urgent
    journalctl -q -u "${3:-$unit}" -p "$1" -o cat | grep -q "$2"
}
journal_lacks() { ! journal_has "$@"; }
show_state() {
    for u in $unit $sg_unit $gs_unit guest-scale-restore.service; do
        echo "--- $(systemctl show -p WantedBy,BindsTo,StatusText $u | tr '\n' ' ')"
        echo "--- systemctl status $u"; systemctl status --no-pager $u
        echo "--- journal of $u"; journalctl -q -u $u -o short-monotonic --no-pager
    done
    echo "--- journal of vnf-a"; journalctl -q -u vnf-a -o cat --no-pager | tail -n 20
    echo "--- vnf_server_group"; cat /run/vnf-sg.out 2>/dev/null
}

echo "GSDK-SCENARIO-START $scenario"
# udev loads virtio_console and links the ports by name; multi-user.target
# does not wait for that.
if ! wait_until 60 test -e /dev/virtio-ports/gsdk.control; then
    echo "GSDK: no /dev/virtio-ports/gsdk.control after 60 s"
    ls -l /dev/virtio-ports 2>&1
    report 1
fi
exec 3<>/dev/virtio-ports/gsdk.control
check "udev and systemd started guest-heartbeatd for the cgcs.heartbeat port" \
    wait_until 60 systemctl is-active --quiet $unit
# The rule's SYSTEMD_WANTS lands on the port's sysfs device unit
# (sys-devices-...-virtio\x2dports-vportNpM.device).
wanted_by_port() { systemctl show -p WantedBy --value "$1" | grep -q 'virtio.*ports-vport[0-9p]*\.device'; }
check "the port's device unit wants it (udev rule)" wanted_by_port $unit
check "it reported readiness (Type=notify)" test "$(systemctl show -p Type --value $unit)" = notify
check "the package made the guest-sdk group" getent group guest-sdk
check "the sandboxed daemon gave its socket to guest-sdk, mode 660" \
    test "$(stat -c '%G %a' /run/guest-heartbeat/heartbeat.sock)" = "guest-sdk 660"
check "journal: the start line at priority notice" journal_has notice "started: guest"
check "journal: and not at priority err (lines keep their own priorities)" journal_lacks err "started: guest"

check "udev and systemd started server-groupd for the cgcs.messaging port" \
    wait_until 60 systemctl is-active --quiet $sg_unit
check "the port's device unit wants server-groupd (udev rule)" wanted_by_port $sg_unit
check "server-groupd reported readiness (Type=notify)" test "$(systemctl show -p Type --value $sg_unit)" = notify
check "the sandboxed server-groupd gave its client socket to guest-sdk, mode 660" \
    test "$(stat -c '%G %a' /run/server-group/client.sock)" = "guest-sdk 660"
check "journal: server-groupd's start line at priority notice" journal_has notice "started: host channel" $sg_unit
check "journal: and not at priority err" journal_lacks err "started: host channel" $sg_unit
if [ "$failures" != 0 ]; then show_state; echo "STEP done" >&3; report "$failures"; fi

# The example VNF from guest-sdk-examples, as its own service run by an
# unprivileged user in the guest-sdk group (who may register: docs/security.md).
mkdir -p /run/vnf-a
systemd-run --quiet --unit=vnf-a -p DynamicUser=yes -p SupplementaryGroups=guest-sdk \
    /usr/libexec/guest-sdk/examples/vnf_legacy --name vnf-a --action stop --state-dir /run/vnf-a
host_step start-host || { show_state; failures=$((failures + 1)); }
check "vnf-a registered with the packaged daemon" journal_has info "application vnf-a (pid [0-9]*) registered"
check "vnf-a is not root" test "$(systemctl show -p UID --value vnf-a)" -gt 0

# systemctl reload: a new interval, the same process, announced to the host.
pid=$(systemctl show -p MainPID --value $unit)
sed -i 's/^#*HB_INTERVAL=.*/HB_INTERVAL=2000/' $conf
check "systemctl reload succeeds" systemctl reload $unit
check "the daemon re-read its configuration" wait_until 10 journal_has notice "reloaded $conf: interval 2000 ms"
check "reload kept the same process" test "$(systemctl show -p MainPID --value $unit)" = "$pid"
host_step expect-interval 2000 || failures=$((failures + 1))

# Server groups: vmhostd (started above) has this VM alone in a group and
# is connected to its cgcs.messaging port; server-groupd says so in its
# status. The example member, unprivileged in guest-sdk, broadcasts and asks
# for every member's status; the host's relay answers with this VM.
sg_host_connected() { test "$(systemctl show -p StatusText --value $sg_unit)" = "host connected"; }
check "server-groupd reports the host connected (sd_notify status)" wait_until 60 sg_host_connected
# (systemd-run --wait needs D-Bus, which the image does not have: the unit
# stays after it exits and its output goes to a file.)
systemd-run --quiet --remain-after-exit --unit=vnf-sg -p DynamicUser=yes -p SupplementaryGroups=guest-sdk \
    -p StandardOutput=file:/run/vnf-sg.out -p StandardError=inherit \
    /usr/libexec/guest-sdk/examples/vnf_server_group --broadcast "hello from the packaged guest" --status --seconds 60
sg_example_ended() { case "$(systemctl show -p SubState --value vnf-sg)" in exited | failed) true ;; *) false ;; esac; }
check "vnf_server_group ended" wait_until 90 sg_example_ended
echo "vnf_server_group exited with $(systemctl show -p ExecMainStatus --value vnf-sg):"; sed 's/^/    /' /run/vnf-sg.out
check "vnf_server_group succeeded" test "$(systemctl show -p ExecMainStatus --value vnf-sg)" = 0
check "vnf_server_group's broadcast was taken" grep -q "^broadcast sent: hello from the packaged guest" /run/vnf-sg.out
check "the host's relay answered its status query with this VM" \
    grep -q '^status: 1 member(s): .*"instance_name": *"gsdk-vm"' /run/vnf-sg.out
host_step expect-broadcast 1 || failures=$((failures + 1))

# systemctl reload of server-groupd: the same process reads its file again.
sg_pid=$(systemctl show -p MainPID --value $sg_unit)
check "systemctl reload server-groupd succeeds" systemctl reload $sg_unit
check "server-groupd re-read its configuration" \
    wait_until 10 journal_has notice "reloaded /etc/server-group/server_group.conf" $sg_unit
check "reload kept the same server-groupd process" test "$(systemctl show -p MainPID --value $sg_unit)" = "$sg_pid"

# guest-scaled: enabled by its package, started after server-groupd, serving
# cgcs.scale through it; the boot oneshot found no offline set and ended well.
gs_serving() { test "$(systemctl show -p StatusText --value $gs_unit)" = "serving cgcs.scale"; }
check "guest-scaled is active" wait_until 60 systemctl is-active --quiet $gs_unit
check "guest-scaled reported readiness (Type=notify)" test "$(systemctl show -p Type --value $gs_unit)" = notify
check "guest-scaled is ordered after server-groupd" sh -c "systemctl show -p After --value $gs_unit | grep -qw $sg_unit"
check "guest-scaled serves cgcs.scale through server-groupd (sd_notify status)" wait_until 60 gs_serving
check "the sandboxed guest-scaled gave its socket to guest-sdk, mode 660" \
    test "$(stat -c '%G %a' /run/guest-scale/scale.sock)" = "guest-sdk 660"
check "guest-scale-restore ran at boot" test "$(systemctl show -p ActiveState --value guest-scale-restore.service)" = active
check "and succeeded" test "$(systemctl show -p Result --value guest-scale-restore.service)" = success
check "journal: it found no offline set, so every CPU stayed online" \
    journal_has notice "every CPU stays online" guest-scale-restore.service
cpu1_online() { test "$(cat /sys/devices/system/cpu/cpu1/online)" = "$1"; }
if [ "$(nproc --all)" -ge 2 ]; then
    check "CPU 1 is online at first" cpu1_online 1
    # The host asks; the sandboxed daemon writes the CPU's online file.
    host_step scale down || failures=$((failures + 1))
    check "scale down took CPU 1 offline" cpu1_online 0
    check "guest-scaled kept the offline set" wait_until 10 grep -qx 'set(\[1\])' /var/lib/guest-scale/offline_cpus
    host_step scale up || failures=$((failures + 1))
    check "scale up brought CPU 1 back" cpu1_online 1
    check "journal: guest-scaled logged the scale down" journal_has notice "scale down: CPU 1 offline" $gs_unit
    check "journal: and the scale up" journal_has notice "scale up: CPU 1 online" $gs_unit
else
    echo "GSDK: one vCPU only: no scale round trip"
fi

# The host unplugs each port: systemd stops its daemon (BindsTo= the device).
host_step unplug-port cgcs.heartbeat || failures=$((failures + 1))
check "unplugging the port stopped guest-heartbeatd" wait_until 30 sh -c "! systemctl is-active --quiet $unit"
check "it stopped on SIGTERM, saying so" journal_has notice "stopping on SIGTERM"
host_step unplug-port cgcs.messaging || failures=$((failures + 1))
check "unplugging cgcs.messaging stopped server-groupd" wait_until 30 sh -c "! systemctl is-active --quiet $sg_unit"
check "it stopped on SIGTERM, saying so" journal_has notice "stopping on SIGTERM" $sg_unit

[ "$failures" = 0 ] || show_state
echo "STEP done" >&3
report "$failures"

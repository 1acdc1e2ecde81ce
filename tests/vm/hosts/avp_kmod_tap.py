"""Host side of avp-kmod-tap: the switch with port a and a TAP in a network
namespace of the test's own, and the host's end of the traffic
(harness/avp_kmod_tap_host.py). The device is ivshmem-doorbell: the TAP
scenario runs with interrupts."""

from avp_kmod_tap_host import prepare as prepare_tap
from guest_vm import GuestError


def prepare(options, workdir):
    return prepare_tap(options, workdir, doorbell=True)


def drive(vm, options):
    raise GuestError("avp-kmod-tap needs prepare(): run it through run_scenario.py")

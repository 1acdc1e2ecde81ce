"""Host side of avp-kmod-irq: the switch and steps shared by the avp-kmod
scenarios (harness/avp_kmod_host.py), its ports served as ivshmem-doorbell
devices (MSI-X: vector 0 control and migration, 1 + q queue q)."""

from avp_kmod_host import drive  # noqa: F401 - the scenario's entry point
from avp_kmod_host import prepare as prepare_kmod


def prepare(options, workdir):
    return prepare_kmod(options, workdir, doorbell=True)

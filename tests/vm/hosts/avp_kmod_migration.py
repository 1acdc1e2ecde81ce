"""Host side of avp-kmod-migration: the switch and steps shared by the avp-kmod
scenarios (harness/avp_kmod_host.py)."""

from avp_kmod_host import drive, prepare  # noqa: F401 - the scenario's entry points

"""Host side of scale-restore-openstack-in-guest: scale-restore-in-guest's
driver with the offline set in openstack/latest/meta_data.json."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale_restore_in_guest import ConfigDriveHost  # noqa: E402


class OpenStackDriveHost(ConfigDriveHost):
    layout = "openstack"


def prepare(options, workdir):
    return OpenStackDriveHost(options, workdir)

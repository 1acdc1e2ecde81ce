# scale-restore-in-guest with the offline set in the drive's
# openstack/latest/meta_data.json (meta.offline_cpuset) instead of
# ec2/latest/meta-data.json; the host driver builds that drive.
. /scenarios/scale-restore-in-guest.sh

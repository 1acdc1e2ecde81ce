# Helpers for running unmodified DPDK programs against our AVP devices,
# sourced by tests/avp-pmd, tests/avp-switch and bench/avp. Defines functions only.

# private_plugin PATH -> a path EAL will load with -d: PATH itself, or a copy
# in a fresh directory (under /run, else $HOME) when PATH has a world-writable
# ancestor (a checkout under /tmp, say), which EAL refuses.
private_plugin() {
    local so d
    so=$(readlink -f "$1")
    d=$(dirname "$so")
    while :; do
        if [ -n "$(find "$d" -maxdepth 0 -perm -0002 2>/dev/null)" ]; then
            d=$(mktemp -d /run/gsdk-dpdk-plugin.XXXXXX 2>/dev/null || mktemp -d "$HOME/.gsdk-dpdk-plugin.XXXXXX")
            chmod 755 "$d"
            cp "$so" "$d/$(basename "$so")"
            echo "$d/$(basename "$so")"
            return
        fi
        [ "$d" = / ] && break
        d=$(dirname "$d")
    done
    echo "$1"
}

# write_pci_sandbox SCRIPT WORK TREE UIO: writes SCRIPT, which runs "$@" in the
# mount namespace it is started in (unshare -m) with a fake PCI tree: DPDK
# opens /dev/uioN and /sys/class/uio/uioN/device/config by absolute path, so
# it gets a private /dev (a FIFO as uioN: epoll-able, never ready) and the
# tree's .class over /sys/class. WORK holds the bind mount of the real /dev.
write_pci_sandbox() {
    local script=$1 work=$2 tree=$3 uio=$4
    cat >"$script" <<NS
set -e
mkdir -p "$work/dev-orig"
mount --rbind /dev "$work/dev-orig"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero random urandom; do touch /dev/\$n; mount --bind "$work/dev-orig/\$n" /dev/\$n; done
mkdir -p /dev/shm /dev/hugepages
mount --bind "$work/dev-orig/shm" /dev/shm
mount -t hugetlbfs nodev /dev/hugepages
mkfifo -m 600 /dev/uio$uio
mount --bind "$tree/.class" /sys/class
export SYSFS_PCI_DEVICES="$tree"
exec "\$@"
NS
}

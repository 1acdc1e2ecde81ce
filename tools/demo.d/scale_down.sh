# vCPU scaling for the demo (sourced; tools/demo.sh owns the flow). Needs a VM
# created with scaling and the example worker, and the VM's server-groupd:
#
#   tools/simvm create "$root" vm-1 ... --messaging --vcpus 4 \
#       --app "$BUILD/examples/scale_worker --shards 5 --placement @VM@/placement"
#   and in vmhostd's config for vm-1: "messaging": "unix:$root/vm-1/messaging.sock",
#   "vcpus": 4, "min_vcpus": 2
#
# then:   demo_scale_down "$root" vm-1 ctl     (ctl: the demo's vmhostctl wrapper)
# It shows where the worker's shards run, scales down (the worker picks the
# CPU and moves its shards off it first), shows them again, and scales up.

demo_scale_placement() {
    local dir=$1
    if [ -f "$dir/placement" ]; then
        awk '{ by[$2] = by[$2] " " $1 } END { for (c in by) printf "    CPU %s:%s\n", c, by[c] }' \
            "$dir/placement" | sort
    fi
}

demo_scale_down() {
    local root=$1 vm=$2 ctl=$3
    echo "shards of scale_worker in $vm:"
    demo_scale_placement "$root/$vm"
    echo "\$ vmhostctl scale $vm cpu down"
    "$ctl" scale "$vm" cpu down || return
    grep -E "asked to choose|before it goes" "$root/$vm/app-app.log" | tail -4 | sed 's/^/    worker: /'
    echo "shards now:"
    demo_scale_placement "$root/$vm"
    echo "\$ vmhostctl scale $vm cpu up"
    "$ctl" scale "$vm" cpu up || return
    sleep 0.3
    echo "shards now:"
    demo_scale_placement "$root/$vm"
}

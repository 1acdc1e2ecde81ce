# Sourced by scenario scripts. fd 3 is the test-control port opened by /init.

# host_step NAME [ARGS...]: ask the host-side driver to do step NAME and wait
# until it says it is done (its detail is then in $step_detail). Fails if the
# driver reports FAIL or goes away.
host_step() {
    step_detail=
    echo "STEP $*" >&3
    while read -r reply <&3; do
        case "$reply" in
            "GO $1") return 0 ;;
            "GO $1 "*) step_detail=${reply#GO $1 }; return 0 ;;
            "FAIL $1" | "FAIL $1 "*) echo "GSDK: host step $1 failed: ${reply#FAIL $1 }" >&2; return 1 ;;
        esac
    done
    echo "GSDK: control channel closed during step $1" >&2
    return 1
}

failures=0
check() {
    # check DESCRIPTION COMMAND...: run COMMAND, record the outcome.
    desc=$1
    shift
    if "$@"; then
        echo "CHECK ok: $desc"
    else
        echo "CHECK FAIL: $desc"
        failures=$((failures + 1))
    fi
}

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_until() {
    limit=$(($1 * 10))
    shift
    i=0
    while [ "$i" -lt "$limit" ]; do
        "$@" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

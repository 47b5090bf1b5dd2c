# poll.sh — waiting for a condition by polling, with a deadline: no harness of its
# own (no namespace, no daemon, no TAP), so that lib.sh and the tests that cannot
# use lib.sh's harness (deb.sh) share one. Sourced.

# eventually SECONDS CMD...: true once CMD succeeds, polling for up to SECONDS (the
# daemon reacts to filesystem events asynchronously, a process ends some time after
# its signal).
eventually() {
        local limit=$1 _
        shift
        for _ in $(seq 1 $((limit * 20))); do
                "$@" 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}

# Has process PID ended (gone, or a zombie not yet reaped)? A SIGKILL is delivered
# asynchronously: its FUSE connection is aborted only once the process has ended.
process_gone() {
        [ ! -e "/proc/$1/status" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

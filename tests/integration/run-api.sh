#!/bin/bash
# run-api.sh — runs the C API integration tests (test_api) against a real bindlinkd
# in a private mount+pid namespace.
. "$(dirname "$0")/lib.sh"
enter_private_namespace bash "$0" "$@"
start_daemon || exit 1
export BL_AREA="$AREA/api"
mkdir -p "$BL_AREA"
"$BUILDDIR/tests/integration/test_api"
rc=$?
# test_api prints its own TAP; this script adds no test of its own.
T_NUM=-1
exit $rc

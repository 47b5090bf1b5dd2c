#!/bin/sh
# daemon-unfolded-virtual-path.sh BUILDDIR — reproducer (found reading daemon/, not by a
# fuzz target; issue 12): bindlinkd takes a CREATE's virtual path as the client sent it.
# A raw client sends "DIR/a/../y" (libbindlink would have folded it to "DIR/y"): the
# daemon creates the link under the unfolded name, a second create of "DIR/y" — the
# same place — is not refused with EEXIST (two links, two mounts on one directory),
# and bindlinkctl cannot remove the first (it folds what it is given). Expected once the
# daemon checks its own input: the first create refused (EINVAL), or folded.
#
# Needs root and python3. Runs in a private mount and PID namespace on a tmpfs, with
# BUILDDIR's bindlinkd on its own socket; leaves nothing behind.
set -u
[ $# -eq 1 ] && [ -x "$1/bindlinkd" ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
b=$(cd "$1" && pwd)
d=$(mktemp -d /tmp/bindlink-repro.XXXXXX) || exit 1
unshare --mount --propagation private --pid --fork --mount-proc --kill-child sh -s "$d" "$b" <<'INNER'
d=$1 b=$2
mount -t tmpfs -o mode=0755 repro "$d" || exit 1
mkdir "$d/state" "$d/a" "$d/y" "$d/b" && touch "$d/b/marker"
"$b/bindlinkd" --socket "$d/sock" --state-dir "$d/state" >"$d/log" 2>&1 &
daemon=$!
i=0
while [ ! -S "$d/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
python3 - "$d" <<'PY'
import os, socket, struct, sys
d = sys.argv[1]
def string(x):
    return struct.pack('=I', len(x)) + x.encode()
v = d + '/a/../y'
# wire.h: flags, exception count, V, parent's open error, B, B's open error
payload = (struct.pack('=II', 0, 0) + string(v) + struct.pack('=i', 0) +
           string(d + '/b') + struct.pack('=i', 0))
header = struct.pack('=IHHII', 0x424c4b31, 1, 1, len(payload), 2)
fds = [os.open(d + '/a/..', os.O_PATH | os.O_DIRECTORY), os.open(d + '/b', os.O_PATH)]
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(d + '/sock')
c.sendmsg([header + payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('=ii', *fds))])
length = struct.unpack('=IHHII', c.recv(16))[3]
body = b''
while len(body) < length:
    body += c.recv(length - len(body))
print('raw create of %s: status %d' % (v, struct.unpack('=i', body[:4])[0]))
PY
ctl() { BINDLINK_SOCKET="$d/sock" "$b/bindlinkctl" "$@"; }
ctl create "$d/y" "$d/b"
echo "bindlinkctl create $d/y: exit $? (EEXIST expected)"
ctl list
echo "mounts on $d/y: $(awk -v p="$d/y" '$5 == p' /proc/self/mountinfo | wc -l)"
ctl remove "$d/a/../y"
echo "bindlinkctl remove $d/a/../y: exit $? (it removed $d/y; the unfolded link stays:)"
ctl list
kill -TERM "$daemon" 2>/dev/null
wait "$daemon"
umount -R "$d" || umount -l "$d"
INNER
rmdir "$d"

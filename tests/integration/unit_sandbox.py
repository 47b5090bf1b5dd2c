#!/usr/bin/python3
# unit_sandbox.py UNIT COMMAND [ARG]... — run COMMAND under the seccomp filters that
# systemd 252 installs for UNIT's [Service] section, then exec it. The integration
# tests start bindlinkd through it (lib.sh, BINDLINK_UNIT_SANDBOX=1) to run the daemon
# and the overlay servers it forks as the shipped unit would, on a machine where
# systemd is not PID 1 and the unit cannot be started.
#
# Built as systemd 252 builds them (src/shared/seccomp-util.c, src/core/execute.c),
# one filter each, installed in the order exec_child() installs them:
#   ProtectHostname=          sethostname, setdomainname: EPERM
#   RestrictAddressFamilies=  socket() of a family outside the list: EAFNOSUPPORT
#   MemoryDenyWriteExecute=   mmap W+X, mprotect/pkey_mprotect +X, shmat SHM_EXEC: EPERM
#   RestrictRealtime=         sched_setscheduler other than OTHER/BATCH/IDLE: EPERM
#   RestrictSUIDSGID=         setuid/setgid modes: EPERM; openat2: ENOSYS (!)
#   RestrictNamespaces=       clone3: ENOSYS; unshare/clone/setns of the others: EPERM
#   ProtectClock=             @clock: EPERM
#   LockPersonality=          personality() to another persona: EPERM
#   SystemCallFilter=         the allow list (groups expanded by this machine's own
#                             `systemd-analyze syscall-filter`, @default added as
#                             systemd adds it; names libseccomp does not know are
#                             dropped, as systemd drops them), SystemCallErrorNumber=
#                             for the rest; SystemCallArchitectures=native.
# Not here: what is no seccomp filter. The caller adds NoNewPrivileges= and
# CapabilityBoundingSet= (setpriv), PrivateNetwork= and ProtectHostname='s namespace
# (unshare --net --uts) and UMask=; DevicePolicy=, DeviceAllow= and IPAddressDeny=
# (BPF programs on the service's cgroup) are not reproduced.
import errno
import os
import subprocess
import sys

import seccomp

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x2000000, 0x4000000, 0x8000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME = 0x10000000, 0x20000000, 0x40000000, 0x80
NAMESPACES = {"cgroup": CLONE_NEWCGROUP, "ipc": CLONE_NEWIPC, "net": CLONE_NEWNET,
              "mnt": CLONE_NEWNS, "pid": CLONE_NEWPID, "user": CLONE_NEWUSER,
              "uts": CLONE_NEWUTS, "time": CLONE_NEWTIME}
S_ISUID, S_ISGID, O_CREAT = 0o4000, 0o2000, 0o100
PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
A = seccomp.Arg
EQ, GT, LT, NE, MASKED_EQ = seccomp.EQ, seccomp.GT, seccomp.LT, seccomp.NE, seccomp.MASKED_EQ


def service_settings(path):
    """Each [Service] key's assignments in order (an empty one resets, as in systemd)."""
    settings, section = {}, None
    with open(path) as unit:
        for line in unit:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]" or "=" not in line:
                continue
            key, value = line.split("=", 1)
            if value == "":
                settings[key] = []
            else:
                settings.setdefault(key, []).append(value)
    return settings


def last(settings, key, default=None):
    return settings[key][-1] if settings.get(key) else default


def yes(settings, key):
    return last(settings, key, "no") in ("yes", "true", "on", "1")


def expand(name, seen=None):
    """A group's system calls as this machine's systemd lists them, nested groups too."""
    if not name.startswith("@"):
        return {name}
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name],
                         check=True, capture_output=True, text=True).stdout
    names = set()
    for word in out.split():
        if word == name or word.startswith("#"):
            continue
        if word.startswith("@"):
            names |= expand(word, seen)
        elif word.isidentifier():
            names.add(word)
    return names


def known(name):
    try:
        return seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) >= 0
    except (ValueError, RuntimeError):
        return False


def add(f, action, name, *args):
    if known(name):
        f.add_rule_exactly(action, name, *args)


def allow_list(settings):
    """SystemCallFilter= as config_parse_syscall_filter() reads it: the first assignment
    decides allow or deny; @default joins an allow list; "~" entries leave it."""
    lines = settings.get("SystemCallFilter", [])
    if not lines:
        return None
    if lines[0].startswith("~"):
        sys.exit("unit_sandbox.py: a SystemCallFilter= deny list is not reproduced here")
    names = expand("@default")
    for line in lines:
        invert = line.startswith("~")
        for word in line.lstrip("~").split():
            word = word.split(":")[0]
            names = names - expand(word) if invert else names | expand(word)
    return names


def protect_hostname(filters):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in ("sethostname", "setdomainname"):
        add(f, seccomp.ERRNO(errno.EPERM), name)
    filters.append(f)


def restrict_address_families(filters, families):
    numbers = sorted(getattr(__import__("socket"), fam) for fam in families.split())
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    no = seccomp.ERRNO(errno.EAFNOSUPPORT)
    add(f, no, "socket", A(0, LT, numbers[0]))
    add(f, no, "socket", A(0, GT, numbers[-1]))
    for af in range(numbers[0] + 1, numbers[-1]):
        if af not in numbers:
            add(f, no, "socket", A(0, EQ, af))
    filters.append(f)


def memory_deny_write_execute(filters):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    no = seccomp.ERRNO(errno.EPERM)
    add(f, no, "mmap", A(2, MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC | PROT_WRITE))
    add(f, no, "mprotect", A(2, MASKED_EQ, PROT_EXEC, PROT_EXEC))
    add(f, no, "pkey_mprotect", A(2, MASKED_EQ, PROT_EXEC, PROT_EXEC))
    add(f, no, "shmat", A(2, MASKED_EQ, SHM_EXEC, SHM_EXEC))
    filters.append(f)


def restrict_realtime(filters):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    for policy in (1, 2, 4):  # SCHED_FIFO, SCHED_RR, (4); OTHER 0, BATCH 3, IDLE 5 stay
        add(f, seccomp.ERRNO(errno.EPERM), "sched_setscheduler", A(1, EQ, policy))
    add(f, seccomp.ERRNO(errno.EPERM), "sched_setscheduler", A(1, GT, 5))
    filters.append(f)


def restrict_suid_sgid(filters):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    no = seccomp.ERRNO(errno.EPERM)
    for m in (S_ISUID, S_ISGID):
        for name, arg in (("chmod", 1), ("fchmod", 1), ("fchmodat", 2), ("fchmodat2", 2),
                          ("mkdir", 1), ("mkdirat", 2), ("mknod", 1), ("mknodat", 2),
                          ("creat", 1)):
            add(f, no, name, A(arg, MASKED_EQ, m, m))
        add(f, no, "open", A(1, MASKED_EQ, O_CREAT, O_CREAT), A(2, MASKED_EQ, m, m))
        add(f, no, "openat", A(2, MASKED_EQ, O_CREAT, O_CREAT), A(3, MASKED_EQ, m, m))
    # systemd cannot look into openat2's struct open_how: it refuses the call.
    add(f, seccomp.ERRNO(errno.ENOSYS), "openat2")
    filters.append(f)


def restrict_namespaces(filters, allowed):
    """yes: none may be made or entered; no: all; a list: those; ~list: all but those."""
    if allowed in ("no", "false", "off", "0"):
        return
    retain = 0
    if allowed not in ("yes", "true", "on", "1"):
        for word in allowed.lstrip("~").split():
            retain |= NAMESPACES[word]
        if allowed.startswith("~"):
            retain = sum(NAMESPACES.values()) & ~retain
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    add(f, seccomp.ERRNO(errno.ENOSYS), "clone3")
    no = seccomp.ERRNO(errno.EPERM)
    if retain == 0:
        add(f, no, "setns")
    else:
        add(f, no, "setns", A(1, EQ, 0))
    for flag in NAMESPACES.values():
        if retain & flag:
            continue
        add(f, no, "unshare", A(0, MASKED_EQ, flag, flag))
        add(f, no, "clone", A(0, MASKED_EQ, flag, flag))
        if retain:
            add(f, no, "setns", A(1, MASKED_EQ, flag, flag))
    filters.append(f)


def deny_group(filters, group):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in expand(group):
        add(f, seccomp.ERRNO(errno.EPERM), name)
    filters.append(f)


def lock_personality(filters):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    add(f, seccomp.ERRNO(errno.EPERM), "personality", A(0, NE, 0))  # PER_LINUX
    filters.append(f)


def syscall_filter(filters, settings):
    names = allow_list(settings)
    if names is None:
        return
    error = last(settings, "SystemCallErrorNumber")
    default = seccomp.ERRNO(getattr(errno, error)) if error else seccomp.KILL_PROCESS
    f = seccomp.SyscallFilter(default)
    for name in sorted(names):
        add(f, seccomp.ALLOW, name)
    filters.append(f)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: unit_sandbox.py UNIT COMMAND [ARG]...")
    settings = service_settings(sys.argv[1])
    if last(settings, "SystemCallArchitectures", "native") != "native":
        sys.exit("unit_sandbox.py: only SystemCallArchitectures=native is reproduced")
    filters = []
    if yes(settings, "ProtectHostname"):
        protect_hostname(filters)
    if last(settings, "RestrictAddressFamilies"):
        restrict_address_families(filters, last(settings, "RestrictAddressFamilies"))
    if yes(settings, "MemoryDenyWriteExecute"):
        memory_deny_write_execute(filters)
    if yes(settings, "RestrictRealtime"):
        restrict_realtime(filters)
    if yes(settings, "RestrictSUIDSGID"):
        restrict_suid_sgid(filters)
    if last(settings, "RestrictNamespaces"):
        restrict_namespaces(filters, last(settings, "RestrictNamespaces"))
    if yes(settings, "ProtectClock"):
        deny_group(filters, "@clock")
    if yes(settings, "LockPersonality"):
        lock_personality(filters)
    syscall_filter(filters, settings)
    for f in filters:
        f.load()
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs a command as root inside the nested test VM and returns its status.

The VM is QEMU's TCG with -cpu max, which emulates AMD-V with nested
paging, so Debian's kernel inside loads kvm-amd and has a /dev/kvm with
hardware semantics (guest user space runs, most instructions never exit),
on any Linux host, with or without a KVM of its own.  The host's / is
shared read-only under a tmpfs overlay, the checkout (the current
directory) writable at its own path; the command runs there with a fresh
/tmp.  Its output streams back through the serial console as it comes.

  tests/nested/run.py [options] -- COMMAND [ARG...]

Exit status: the command's; 124 when --timeout ran out; 125 when the VM
crashed or stalled (no output for --idle seconds) before the command
ended: its console's last lines are printed, and with --count a failing
test line "FAIL nested_vm" is counted.  The VM never outlives this process.
"""
import argparse
import collections
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
KERNEL_LINE = re.compile(r"^\[\s*\d+\.\d+\] ")
KERNEL_TROUBLE = re.compile(r"BUG|Oops|panic|lockup|stall|WARNING|hung_task|Call Trace")
LOCKUP = re.compile(r"soft lockup - CPU#\d+ stuck for (\d+)s")
LOCKUP_SECONDS = 75
RCU_STALL = re.compile(r"rcu: INFO: rcu_\w+ (self-)?detected stall")
RCU_STALLS = 3
HEARTBEAT = 20
PASS_ENV = ("BUILD", "SUITES_ONLY", "TSAN", "SAN", "V", "CI", "TESTS_WHERE", "TESTS_UNITS", "SHRIKE_TEST_SCALE")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timeout", type=float, default=3600, help="seconds for the whole run")
    p.add_argument("--idle", type=float, default=150,
                   help="seconds without the VM's heartbeat (every %d s) that count as a stall"
                   % HEARTBEAT)
    p.add_argument("--memory", default="8G")
    # One thread: QEMU 7.2's multi-threaded TCG lost the exit from a nested
    # guest to a host interrupt now and then (a CPU of the VM stuck in
    # KVM_RUN for good: 2 VMs of 2 within minutes), one thread never did
    # in the same runs, at the same speed for these tests.
    p.add_argument("--tcg-threads", choices=("single", "multi"), default="single",
                   help="QEMU's TCG: one host thread for every CPU (default), or one each")
    p.add_argument("--loglevel", type=int, default=4,
                   help="the VM kernel's console log level (4: errors, stalls, lock-ups)")
    p.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    p.add_argument("--env", action="append", default=[], metavar="VAR",
                   help="pass this environment variable too")
    p.add_argument("--retries", type=int, default=0,
                   help="run the command again in a new VM this often if the VM crashes or stalls")
    p.add_argument("--retry-failed", action="store_true",
                   help="with --retries: also run again when tests failed (not only the VM)")
    p.add_argument("--count", action="store_true",
                   help="count PASS/FAIL/SKIP lines and end with 'N passed, N failed, N skipped'")
    p.add_argument("command", nargs="+")
    return p.parse_args()


def build_image(args):
    r = subprocess.run([os.path.join(HERE, "image.sh")], cwd=REPO,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        why = (r.stdout.strip().splitlines() or ["image.sh failed"])[-1]
        print("nested: cannot build the VM image: " + why, flush=True)
        if args.count:
            print("FAIL nested_vm: cannot build the VM image: " + why, flush=True)
        sys.exit(1)
    return os.path.join(REPO, "guest-images", "nested")


def write_control(ctl, args):
    with open(os.path.join(ctl, "workdir"), "w") as f:
        f.write(os.getcwd() + "\n")
    lines = ["cd %s || exit 125" % shlex.quote(os.getcwd()),
             "export SHRIKE_NESTED=1 HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    for var in PASS_ENV + tuple(args.env):
        if var in os.environ:
            lines.append("export %s=%s" % (var, shlex.quote(os.environ[var])))
    # A heartbeat from the VM's user space: a VM that stops printing it
    # is hung (the command's own output may pause for minutes).
    lines.append("( while sleep %d; do echo 'nested: alive'; done ) & heartbeat=$!" % HEARTBEAT)
    lines.append(" ".join(shlex.quote(a) for a in args.command))
    lines.append("status=$?; kill $heartbeat; exit $status")
    with open(os.path.join(ctl, "cmd.sh"), "w") as f:
        f.write("\n".join(lines) + "\n")


def qemu_command(image, ctl, args):
    share = "local,security_model=passthrough,multidevs=remap"
    return [
        "qemu-system-x86_64", "-accel", "tcg,thread=" + args.tcg_threads, "-cpu", "max",
        "-machine", "q35", "-smp", str(args.cpus), "-m", args.memory,
        "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
        "-kernel", os.path.join(image, "vmlinuz"),
        "-initrd", os.path.join(image, "initrd.cpio.gz"),
        "-append", "console=ttyS0 loglevel=%d panic=-1 oops=panic" % args.loglevel,
        "-fsdev", "local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap",
        "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
        "-fsdev", "%s,id=ctl,path=%s" % (share, ctl),
        "-device", "virtio-9p-pci,fsdev=ctl,mount_tag=ctl",
        "-fsdev", "%s,id=work,path=%s" % (share, os.getcwd()),
        "-device", "virtio-9p-pci,fsdev=work,mount_tag=work",
    ]


class Counter:
    """The test lines of the command's output (--count)."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def see(self, line):
        if line.startswith("PASS "):
            self.passed += 1
        elif line.startswith("FAIL "):
            self.failed += 1
        elif line.startswith("SKIP "):
            self.skipped += 1

    @staticmethod
    def is_summary(line):
        words = line.split()
        return len(words) >= 4 and words[1] == "passed," and words[3].startswith("failed")


def stream(proc, args, counter, started):
    """Echoes the console line by line; returns (why it ended, last lines)."""
    last = collections.deque(maxlen=40)
    buf = b""
    deadline = started + args.timeout
    quiet_since = time.monotonic()
    rcu_stalls = 0
    fd = proc.stdout.fileno()
    while True:
        now = time.monotonic()
        if now > deadline:
            return "timeout", last
        if now - quiet_since > args.idle:
            return "stalled", last
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return "ended", last
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode("utf-8", "replace").rstrip("\r")
            last.append(line)
            # The kernel's own lines ("[  328.94] watchdog: BUG: soft
            # lockup ...") come on forever from a hung VM: only the
            # command's output shows progress.
            m = LOCKUP.search(line)
            if m and int(m.group(1)) >= LOCKUP_SECONDS:
                # Seen under QEMU's TCG emulating AMD-V: once a CPU of
                # the VM is stuck this long it never came back.
                return "locked up", last
            # A CPU that no longer takes interrupts (TCG missing the exit
            # from a nested guest) cannot report its own lock-up; the
            # others' RCU reports it, every 21 s or so.
            if RCU_STALL.search(line):
                rcu_stalls += 1
                if rcu_stalls >= RCU_STALLS:
                    return "locked up", last
            if line == "nested: alive":
                quiet_since = time.monotonic()
                continue
            if line == "nested: ready":
                print("nested: the VM is ready after %.1f s" % (time.monotonic() - started), flush=True)
                continue
            if KERNEL_LINE.match(line) and not KERNEL_TROUBLE.search(line):
                continue           # kept in `last` for a crash report only
            if args.count:
                counter.see(line)
                if Counter.is_summary(line):
                    continue
            print(line, flush=True)


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def run_vm(image, args, counter):
    """One VM for the command: (its status or None, why, last lines, seconds)."""
    with tempfile.TemporaryDirectory(prefix="shrike-nested.") as ctl:
        write_control(ctl, args)
        started = time.monotonic()
        proc = subprocess.Popen(qemu_command(image, ctl, args), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda s, f: (stop(proc), sys.exit(128 + s)))
        try:
            why, last = stream(proc, args, counter, started)
        finally:
            stop(proc)
        status = None
        status_file = os.path.join(ctl, "status")
        if os.path.exists(status_file):
            with open(status_file) as f:
                text = f.read().strip()
            status = int(text) if text.isdigit() else None
    return status, why, last, time.monotonic() - started


def report_vm_failure(why, last, args):
    what = {"timeout": "ran out of its %d s" % args.timeout,
            "stalled": "stalled (no heartbeat for %d s)" % args.idle,
            "ended": "ended before the command did (crash or panic)",
            "locked up": "locked up (a CPU stuck for %d s, or RCU stalls)" % LOCKUP_SECONDS}[why]
    print("nested: the VM %s; its console's last lines:" % what, flush=True)
    for line in list(last)[-20:]:
        print("  | " + line, flush=True)
    return what


def main():
    args = parse_args()
    image = build_image(args)
    for attempt in range(1 + args.retries):
        counter = Counter()
        status, why, last, elapsed = run_vm(image, args, counter)
        if status is not None and counter.failed and args.retry_failed and attempt < args.retries:
            # QEMU's TCG sometimes stalls a nested guest for good (a Linux
            # boot stopped mid-line, KVM_RUN never returning): the failures
            # stay in the log above, and the unit runs once more; one that
            # fails again is counted.
            print("nested: %d failed in this VM (above); discarding %d passed, %d failed, "
                  "%d skipped; running the command again in a new VM"
                  % (counter.failed, counter.passed, counter.failed, counter.skipped), flush=True)
            continue
        if status is not None:
            break
        what = report_vm_failure(why, last, args)
        if attempt < args.retries:
            # The VM, not shrike, failed (QEMU's TCG emulating AMD-V is
            # not perfect): the command runs again in a new VM, and what
            # the broken one counted is taken back (tests/check.sh).
            print("nested: the VM failed; discarding %d passed, %d failed, %d skipped; running "
                  "the command again in a new VM" % (counter.passed, counter.failed,
                                                     counter.skipped), flush=True)
            continue
        if args.count:
            print("FAIL nested_vm: the VM %s after %.0f s" % (what, elapsed), flush=True)
            counter.failed += 1
        status = 124 if why == "timeout" else 125
    print("nested: finished in %.0f s with status %d" % (elapsed, status), flush=True)
    if args.count and status != 0 and not counter.failed:
        # A command that failed without a failing test (it could not
        # start, or died) must not pass for a run with nothing wrong.
        print("FAIL nested_command: %s ended with status %d and no failing test"
              % (" ".join(args.command)[:80], status), flush=True)
        counter.failed += 1
    if args.count:
        print("\n%d passed, %d failed, %d skipped" % (counter.passed, counter.failed, counter.skipped))
        if counter.failed and status == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

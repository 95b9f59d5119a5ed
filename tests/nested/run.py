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
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PASS_ENV = ("BUILD", "SUITES_ONLY", "TSAN", "SAN", "V", "CI", "TESTS_WHERE", "SHRIKE_TEST_SCALE")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timeout", type=float, default=3600, help="seconds for the whole run")
    p.add_argument("--idle", type=float, default=1200,
                   help="seconds without console output that count as a stall")
    p.add_argument("--memory", default="8G")
    p.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    p.add_argument("--env", action="append", default=[], metavar="VAR",
                   help="pass this environment variable too")
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
    lines.append(" ".join(shlex.quote(a) for a in args.command))
    with open(os.path.join(ctl, "cmd.sh"), "w") as f:
        f.write("\n".join(lines) + "\n")


def qemu_command(image, ctl, args):
    share = "local,security_model=passthrough,multidevs=remap"
    return [
        "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max",
        "-machine", "q35", "-smp", str(args.cpus), "-m", args.memory,
        "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
        "-kernel", os.path.join(image, "vmlinuz"),
        "-initrd", os.path.join(image, "initrd.cpio.gz"),
        "-append", "console=ttyS0 loglevel=2 panic=-1 oops=panic",
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
        quiet_since = time.monotonic()
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode("utf-8", "replace").rstrip("\r")
            last.append(line)
            if line == "nested: ready":
                print("nested: the VM is ready after %.1f s" % (time.monotonic() - started), flush=True)
                continue
            if args.count:
                counter.see(line)
                if Counter.is_summary(line):
                    continue
            print(line, flush=True)


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def main():
    args = parse_args()
    image = build_image(args)
    counter = Counter()
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
        status_file = os.path.join(ctl, "status")
        status = None
        if os.path.exists(status_file):
            with open(status_file) as f:
                text = f.read().strip()
            status = int(text) if text.isdigit() else None
    elapsed = time.monotonic() - started
    if status is None:
        what = {"timeout": "ran out of its %d s" % args.timeout,
                "stalled": "stalled (no output for %d s)" % args.idle,
                "ended": "ended before the command did (crash or panic)"}[why]
        print("nested: the VM %s; its console's last lines:" % what, flush=True)
        for line in list(last)[-20:]:
            print("  | " + line, flush=True)
        if args.count:
            print("FAIL nested_vm: the VM %s after %.0f s" % (what, elapsed), flush=True)
            counter.failed += 1
        status = 124 if why == "timeout" else 125
    print("nested: finished in %.0f s with status %d" % (elapsed, status), flush=True)
    if args.count:
        print("\n%d passed, %d failed, %d skipped" % (counter.passed, counter.failed, counter.skipped))
        if counter.failed and status == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

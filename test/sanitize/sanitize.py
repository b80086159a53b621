"""The sanitizer environment of a TILUS_SANITIZE build's lit suite.

asan.options holds the ASan options (with the reason for each); UBSan
aborts on its first report. Leaks are reported, except for Python, whose
interpreter holds allocations at exit that are not this project's.
"""
import os


def asan_options(root, leaks=True):
    path = os.path.join(root, "test", "sanitize", "asan.options")
    options = [line.strip() for line in open(path)
               if line.strip() and not line.startswith("#")]
    return ":".join(options + ["detect_leaks=%d" % leaks])


def environment(root):
    return {
        "ASAN_OPTIONS": asan_options(root),
        "UBSAN_OPTIONS": "abort_on_error=1:print_stacktrace=1",
    }


def preload_command(runtime):
    """The prefix that runs a program built outside the project (not
    instrumented) against the sanitized libtilus: ASan must be the first
    library the process loads, which only the program's own link or a
    preload can make it."""
    return "env LD_PRELOAD=%s" % runtime


def python_command(root, runtime, python):
    """Python with the ASan runtime preloaded, for libtilus through ctypes."""
    return "env LD_PRELOAD=%s ASAN_OPTIONS=%s %s" % (
        runtime, asan_options(root, leaks=False), python)

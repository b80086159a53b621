"""The sanitizer options of a TILUS_SANITIZE build's tests (lit and ctest).

Every report stops the process with SIGABRT, so that a `not tool` test
fails on a report instead of taking its exit status for an expected error.
LLVM's and MLIR's archives are not instrumented; asan.supp lists what that
costs and why.
"""
import os


def asan_options(root, leaks=True):
    return ":".join([
        "abort_on_error=1",
        "detect_leaks=%d" % leaks,
        "detect_stack_use_after_return=0",
        "suppressions=" + os.path.join(root, "test", "sanitize", "asan.supp"),
    ])


def environment(root):
    return {
        "ASAN_OPTIONS": asan_options(root),
        "UBSAN_OPTIONS": "abort_on_error=1:print_stacktrace=1",
        "LSAN_OPTIONS": "suppressions=" +
                        os.path.join(root, "test", "sanitize", "lsan.supp"),
    }


def python_command(root, runtime, python):
    """Python with the ASan runtime preloaded for libtilus; the interpreter's
    allocations that are live at exit are not leaks of this project."""
    return "env LD_PRELOAD=%s ASAN_OPTIONS=%s %s" % (
        runtime, asan_options(root, leaks=False), python)

"""Runs every frontend test input and example through the sanitized
frontend (tilus-frontend-check, built with ASan and UBSan).

  run_frontend.py TOOL SOURCE_ROOT

A file passes when the tool exits 0 (a valid program) or 1 (a located
diagnostic); anything else (a sanitizer report, a crash) fails. Examples and
files without an error CHECK must exit 0.
"""
import glob
import os
import subprocess
import sys

tool, root = sys.argv[1], sys.argv[2]
env = dict(os.environ)
env["ASAN_OPTIONS"] = "exitcode=99:detect_leaks=1"
env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
files = sorted(glob.glob(os.path.join(root, "test/lit/frontend/*.tl")) +
               glob.glob(os.path.join(root, "examples/*.tl")))
passed = failed = 0
for path in files:
    text = open(path).read()
    expect_error = "error:" in text and "RUN: not" in text
    # The -D options of the file's first RUN line apply here too.
    args = []
    for line in text.splitlines():
        if "RUN:" in line and "tilusc %s" in line:
            words = line.split("tilusc %s", 1)[1].split()
            for i, word in enumerate(words):
                if word == "-D" and i + 1 < len(words):
                    args += ["-D", words[i + 1]]
            break
    result = subprocess.run([tool, path] + args, env=env, capture_output=True,
                            text=True)
    ok = result.returncode == (1 if expect_error else 0)
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {os.path.relpath(path, root)}: exit {result.returncode}")
        print(result.stderr[-4000:])
print(f"sanitized frontend: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

#!/usr/bin/env bash
# Prepares the GPU check bundle: make-bundle.sh BUILD_DIR OUT_DIR
# BUILD_DIR must hold bin/tilusc and bin/tilus-gpu-check (a build with the
# compiler). OUT_DIR gets src/ (the runtime core's sources), cases/ (PTX,
# metadata, inputs, expected outputs) and run.sh; OUT_DIR.tar.gz packs it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "$1" && pwd)
out=$2
rm -rf "$out"
mkdir -p "$out/src" "$out/cases"

# Sources: what a core-only configure reads (tracked and new files alike; all
# files of those folders outside a git checkout).
dirs=(CMakeLists.txt cmake include ir runtime tools bench python examples)
list_sources() {
  if git -C "$root" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    git -C "$root" ls-files -co --exclude-standard -- "${dirs[@]}"
  else
    (cd "$root" && find "${dirs[@]}" -type f -not -path '*/__pycache__/*')
  fi
}
list_sources | (cd "$root" && while read -r f; do [[ -f $f ]] && echo "$f"; done |
  tar -cf - -T -) | tar -xf - -C "$out/src"

# Cases: compile each kernel, then record inputs and outputs on the emulator.
: > "$out/cases/cases.txt"
grep -v '^#' "$root/bench/gpu/cases.spec" | while read -r name source defines scalars outputs tol; do
  [[ -z $name ]] && continue
  args=()
  if [[ $defines != - ]]; then
    IFS=, read -ra ds <<< "$defines"
    for d in "${ds[@]}"; do args+=(-D "$d"); done
  fi
  "$build/bin/tilusc" "$root/$source" --arch=sm_80 "${args[@]}" \
    -o "$out/cases/$name.ptx" --metadata="$out/cases/$name.json"
  echo "$name $name.ptx $name.json $scalars $outputs $tol" >> "$out/cases/cases.txt"
done
"$build/bin/tilus-gpu-check" "$out/cases" --device emu --record > "$out/cases/record.log"

cp "$root/bench/gpu/run.sh" "$root/bench/gpu/torch_check.py" "$out/"
tar -czf "$out.tar.gz" -C "$(dirname "$out")" "$(basename "$out")"
echo "bundle: $out ($(du -sh "$out" | cut -f1), $(du -h "$out.tar.gz" | cut -f1) packed)"

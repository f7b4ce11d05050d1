#!/bin/sh
# Builds the bundle twice from one snapshot of the source and compares every file's SHA-256.
#
#   tools/check_reproducible.sh
#
# The snapshot (build/reproducible/src) is a copy of the working tree without .git,
# .venv, build/ and dist/, so both builds see exactly the same files even while the tree
# changes; both use the same build environment and SOURCE_DATE_EPOCH (the last commit's
# time). Exits 0 when the two builds are identical, 1 (listing the files that differ)
# when not.
set -eu
cd "$(dirname "$0")/.."
out="$(pwd)/build/reproducible"
rm -rf "$out"
mkdir -p "$out/src"
sh tools/bundle.sh env
tar --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist \
    --exclude='*/__pycache__' --exclude=./.mypy_cache --exclude=./.ruff_cache \
    --exclude=./.pytest_cache --exclude=./.hypothesis -cf - . | tar -xf - -C "$out/src"
epoch="$(git log -1 --format=%ct 2>/dev/null || echo 315532800)"
for name in first second; do
    (cd "$out/src" && BUNDLE_VENV="$(cd ../../.. && pwd)/build/bundle-venv" \
        SOURCE_DATE_EPOCH="$epoch" sh tools/bundle.sh build "$out/$name") \
        >"$out/$name.log" 2>&1 || { cat "$out/$name.log" >&2; exit 1; }
    (cd "$out/$name/thinktwice" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
        >"$out/$name.sha256"
done
files="$(wc -l <"$out/first.sha256")"
if cmp -s "$out/first.sha256" "$out/second.sha256"; then
    echo "reproducible: the two builds have the same $files files, byte for byte"
    exit 0
fi
echo "NOT reproducible: these files differ between the two builds:" >&2
diff "$out/first.sha256" "$out/second.sha256" | grep '^[<>]' | awk '{print $3}' | sort -u >&2
exit 1

#!/bin/sh
# Builds the one-folder bundle from build.spec in a clean environment, or checks a built one.
#
#   tools/bundle.sh build [DIST]   build into DIST (default dist/)
#   tools/bundle.sh check [DIST]   run the bundle's --smoke-test, validate and a CSV export
#                                  with no Python on its path, and print its size
#   tools/bundle.sh env            only create or update the build environment
#
# BUNDLE_VENV names another build environment (then used as it is, not updated), and
# SOURCE_DATE_EPOCH, when set, replaces the time of the last commit.
#
# The build environment is build/bundle-venv: only the runtime dependencies of
# pyproject.toml and PyInstaller, at the versions of the development environment (.venv)
# when there is one. Builds use PYTHONHASHSEED=0 and SOURCE_DATE_EPOCH from the last
# commit, so two builds of the same commit are identical (tools/check_reproducible.sh).
set -eu
cd "$(dirname "$0")/.."

command="${1:-build}"
dist="${2:-dist}"
python="${PYTHON:-python3}"
venv="${BUNDLE_VENV:-build/bundle-venv}"
size_limit_mb=170

build_environment() {
    mkdir -p build
    requirements=build/bundle-requirements.txt
    constraints=build/bundle-constraints.txt
    "$python" - "$requirements" <<'EOF'
import sys
import tomllib

with open("pyproject.toml", "rb") as handle:
    project = tomllib.load(handle)["project"]
wanted = project["dependencies"] + project["optional-dependencies"]["bundle"]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("\n".join(wanted) + "\n")
EOF
    if [ -x .venv/bin/python ]; then
        # The versions the tests ran against.
        .venv/bin/python -m pip freeze --exclude-editable --disable-pip-version-check \
            | grep -iv '^thinktwice' > "$constraints"
    else
        : > "$constraints"
    fi
    stamp="$venv/.stamp"
    wanted_stamp="$("$python" -c 'import hashlib, sys
print(hashlib.sha256(b"".join(open(p, "rb").read() for p in sys.argv[1:])).hexdigest())' \
        "$requirements" "$constraints")"
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted_stamp" ]; then
        echo "== creating the build environment $venv"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$requirements" -c "$constraints"
        echo "$wanted_stamp" > "$stamp"
    fi
}

build() {
    [ -n "${BUNDLE_VENV:-}" ] || build_environment
    epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}"
    echo "== building $dist/thinktwice (SOURCE_DATE_EPOCH=$epoch)"
    rm -rf "$dist/thinktwice"
    # -B: no __pycache__ folders written into the source tree by the build.
    PYTHONHASHSEED=0 SOURCE_DATE_EPOCH="$epoch" PYTHONDONTWRITEBYTECODE=1 \
        "$venv/bin/python" -B -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$dist" --workpath build/pyinstaller build.spec
    size
}

size() {
    size_mb="$(du -sm "$dist/thinktwice" | cut -f1)"
    echo "bundle size: ${size_mb} MB ($dist/thinktwice; target at most ${size_limit_mb} MB)"
    if [ "$size_mb" -gt "$size_limit_mb" ]; then
        echo "the bundle is larger than ${size_limit_mb} MB" >&2
        return 1
    fi
}

check() {
    program="$(cd "$dist/thinktwice" && pwd)/thinktwice"
    [ -x "$program" ] || { echo "no bundle at $program; run: tools/bundle.sh build" >&2; exit 1; }
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    # A bare environment and a folder outside the checkout: nothing but the bundle is used.
    run() {
        (cd "$work" && env -i HOME="$work" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
            THINKTWICE_MANAGER_PASSPHRASE="bundle check passphrase" "$program" "$@")
    }
    echo "== bundle: --smoke-test"
    run --data-dir "$work/data" --smoke-test
    echo "== bundle: validate"
    run --data-dir "$work/data" validate
    echo "== bundle: demo-data and export --format csv"
    run --data-dir "$work/data" demo-data --trainees 3 --answers-per-trainee 20
    run --data-dir "$work/data" export --format csv --detail answers --out "$work/answers.csv"
    rows="$(($(wc -l < "$work/answers.csv") - 1))"
    head -c 3 "$work/answers.csv" | od -An -tx1 | grep -q "ef bb bf" \
        || { echo "the CSV export has no UTF-8 byte order mark" >&2; exit 1; }
    [ "$rows" -eq 60 ] || { echo "the CSV export has $rows rows, not 60" >&2; exit 1; }
    echo "exported $rows answers"
    run --data-dir "$work/data" records verify
    size
}

case "$command" in
    build) build ;;
    check) check ;;
    env) build_environment ;;
    *) echo "usage: tools/bundle.sh build|check|env [DIST]" >&2; exit 2 ;;
esac

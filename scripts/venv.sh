# Sourced by scripts/run and scripts/test: make .venv match a lock file, or leave it alone.
#
# The lock files pin every package with its hashes (pip --require-hashes). An install is skipped
# when the lock file, pyproject.toml and the Python version are the same as at the last install,
# so a second ./scripts/run starts at once.

# ensure_venv LOCK [ALSO...]: install LOCK unless .venv already matches LOCK or one of ALSO
# (scripts/run accepts the test lock, a superset, so switching between the two never reinstalls).
_stamp_of() {
  echo "$(cat "$1" pyproject.toml | sha256sum | cut -d' ' -f1) $(python3 --version 2>&1)"
}

ensure_venv() {
  local lock="$1" candidate
  for candidate in "$@"; do
    if [ -x .venv/bin/wgbot ] && [ -f ".venv/.installed-$(basename "$candidate")" ] &&
       [ "$(cat ".venv/.installed-$(basename "$candidate")")" = "$(_stamp_of "$candidate")" ]; then
      return 0
    fi
  done
  echo "Setting up .venv from $lock (once; later runs skip this)..." >&2
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .venv/.installed-*
  _stamp_of "$lock" > ".venv/.installed-$(basename "$lock")"
}

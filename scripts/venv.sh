# Sourced by scripts/up.sh and scripts/test.sh: create .venv (with $PYTHON_BIN, default python3) if missing
# and install the project into it, pinned by constraints.txt. Usage: install_into_venv '.' | '.[test]' [FIRST]
# (FIRST: a requirement installed before the project, e.g. 'torch==2.13.0' so that pip takes its CPU build)
# The install is skipped when pyproject.toml, constraints.txt and the target are what the last install used
# (the project itself is installed editable, so code changes need no reinstall).
install_into_venv() {
  local target="$1"
  local first="${2:-}"
  if [[ ! -x .venv/bin/python ]]; then
    "${PYTHON_BIN:-python3}" -m venv .venv
  fi
  local stamp=".venv/.chorus-installed"
  local wanted
  wanted="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1) $target"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return 0
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  if [[ -n "$first" ]]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt "$first"
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e "$target"
  echo "$wanted" > "$stamp"
}

# Sourced by scripts/up.sh and scripts/test.sh: create .venv (with $PYTHON_BIN, default python3) if missing
# and install the project into it, pinned by constraints.txt. Usage: install_into_venv '.' | '.[test]'
install_into_venv() {
  local target="$1"
  if [[ ! -x .venv/bin/python ]]; then
    "${PYTHON_BIN:-python3}" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e "$target"
}

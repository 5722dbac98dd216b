#!/usr/bin/env bash
# What the tests need beyond `pip install -e '.[test]'`, shared by .ci/run and the README's test command:
# - LLM4AD for the eoh / funsearch methods, without its declared dependencies (its metadata pins numpy<2
#   and pulls torch, wandb and a GUI toolkit that EoH and FunSearch never import; see pyproject.toml);
# - Debian's Chromium for the browser tests of `glia view` (Playwright drives the system browser and never
#   downloads one). Installing it needs root on a Debian machine; elsewhere install `chromium` yourself.
set -euo pipefail
export PIP_BREAK_SYSTEM_PACKAGES=${PIP_BREAK_SYSTEM_PACKAGES:-1} PIP_ROOT_USER_ACTION=ignore
python -c "import llm4ad" 2>/dev/null || python -m pip install --quiet --no-deps 'llm4ad==1.11'
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

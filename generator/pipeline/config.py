"""Every parameter of a pipeline run, in one frozen ``PipelineConfig`` read from YAML plus CLI overrides.

The YAML file mirrors the dataclasses below section by section (see ``sovereign.example.yml`` and
docs/pipeline.md). An unknown key anywhere is an error naming the key and the file, so a typo never
silently falls back to a default. Secrets are never configuration: only the *names* of the
environment variables holding API keys are, so a config (and the run inputs digested into a record)
can be published as it is.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from generator.errors import InputError
from generator.pipeline.claims import MAX_CLAIMS
from generator.pipeline.embeddings import NIM_BASE_URL, NIM_MODEL
from generator.pipeline.fulltext import ARXIV_HTML_URL, HTML_MAX_BODY_BYTES
from generator.pipeline.search import ARXIV_API_URL, DEFAULT_CACHE_PATH

DEFAULT_CONFIG_FILE = Path("sovereign.yml")

SEARCH_BACKENDS = ("offline", "arxiv")
EMBEDDING_BACKENDS = ("local", "nim")
TRIBUNAL_BACKENDS = ("offline", "openai-compatible")
CLAIM_SOURCES = ("auto", "abstract", "full-text")
FULL_TEXT_FAILURE = ("abstract", "error")
POLICY_RULES = ("verdict-not-accept", "no-claims", "contradicted-claims", "unverified-claims",
                "verified-share-below-minimum")


@dataclass(frozen=True)
class ArxivConfig:
    """The live arXiv API client (used when ``search.backend`` is ``arxiv``)."""

    base_url: str = ARXIV_API_URL
    delay_seconds: float = 3.0
    timeout_seconds: float = 30.0
    max_retries: int = 4
    backoff_seconds: float = 3.0
    page_size: int = 50
    empty_page_retries: int = 2
    cache_path: str | None = str(DEFAULT_CACHE_PATH)


@dataclass(frozen=True)
class SearchConfig:
    backend: str = "offline"
    query_count: int = 4
    max_results_per_query: int = 10
    arxiv: ArxivConfig = field(default_factory=ArxivConfig)


@dataclass(frozen=True)
class FullTextConfig:
    """arXiv's HTML rendering of the target (used when claims come from the full text)."""

    base_url: str = ARXIV_HTML_URL
    delay_seconds: float = 3.0
    timeout_seconds: float = 30.0
    max_retries: int = 2
    backoff_seconds: float = 3.0
    max_body_bytes: int = HTML_MAX_BODY_BYTES
    cache_path: str | None = ".cache/arxiv-html"
    on_failure: str = "abstract"  # abstract: fall back, and say so in the record | error: stop the run


@dataclass(frozen=True)
class ClaimsConfig:
    source: str = "auto"  # auto: full text with search.backend arxiv, else the abstract | abstract | full-text
    max_claims: int = MAX_CLAIMS
    full_text: FullTextConfig = field(default_factory=FullTextConfig)


@dataclass(frozen=True)
class VerificationConfig:
    verifier: str = "coverage-stance"
    threshold: float | None = None  # None: the verifier's own (coverage-stance and stance-lr learn theirs in training)
    max_sources_per_claim: int | None = None  # None: every independent source, nearest (by embedding) first


@dataclass(frozen=True)
class EmbeddingConfig:
    backend: str = "local"
    model: str = NIM_MODEL  # NIM model name; the local backend is always local-hashing-v1
    dimension: int = 1024
    base_url: str = NIM_BASE_URL
    api_key_env: str = "NVIDIA_API_KEY"
    timeout_seconds: float = 30.0
    max_retries: int = 3
    backoff_seconds: float = 1.0


@dataclass(frozen=True)
class TribunalConfig:
    backend: str = "offline"
    base_url: str = NIM_BASE_URL
    model: str | None = None  # required for openai-compatible
    api_key_env: str = "NVIDIA_API_KEY"
    timeout_seconds: float = 60.0
    max_retries: int = 3
    backoff_seconds: float = 1.0
    temperature: float = 0.0
    revision_threshold: float = 6.5
    reject_below: float = 5.0
    max_revision_rounds: int = 1
    revision_min_confidence: float = 0.3
    revision_queries_per_claim: int = 2


@dataclass(frozen=True)
class PolicyConfig:
    rules: tuple[str, ...] = POLICY_RULES
    min_verified_share: float = 0.5


@dataclass(frozen=True)
class PipelineConfig:
    search: SearchConfig = field(default_factory=SearchConfig)
    claims: ClaimsConfig = field(default_factory=ClaimsConfig)
    verification: VerificationConfig = field(default_factory=VerificationConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    tribunal: TribunalConfig = field(default_factory=TribunalConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    def as_dict(self) -> dict:
        """Plain JSON values (tuples as lists); holds no secret, only environment variable names."""
        return _plain(dataclasses.asdict(self))

    def replace(self, **sections: Any) -> "PipelineConfig":
        return dataclasses.replace(self, **sections)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------------
# Building from plain data, with type checks and errors that name the key


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _describe(tp: Any) -> str:
    if tp is type(None):
        return "null"
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(tp)[0])}"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _coerce(value: Any, tp: Any, key: str, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return _coerce(value, option, key, where)
            except InputError:
                continue
        raise InputError(f"{where}: {key} must be {_describe(tp)}, found {value!r}")
    if tp is type(None):
        if value is None:
            return None
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            item = typing.get_args(tp)[0]
            return tuple(_coerce(v, item, f"{key}[{i}]", where) for i, v in enumerate(value))
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    raise InputError(f"{where}: {key} must be {_describe(tp)}, found {value!r}")


def _build(cls: type, data: Any, prefix: str, where: str):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{where}: {prefix or 'the top level'} must be a mapping of keys to values, found {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            full = f"{prefix}.{key}" if prefix else str(key)
            known = ", ".join(f"{prefix}.{n}" if prefix else n for n in names)
            raise InputError(f"{where}: unknown key {full!r} (known keys here: {known})")
    values = {}
    for name in names:
        if name not in data:
            continue
        full = f"{prefix}.{name}" if prefix else name
        tp = hints[name]
        values[name] = _build(tp, data[name], full, where) if _is_dataclass_type(tp) else _coerce(data[name], tp, full, where)
    return cls(**values)


def _check(config: PipelineConfig, where: str) -> None:
    """Values each a valid choice or in range; the message names the key."""
    def need(ok: bool, key: str, expected: str, value: Any) -> None:
        if not ok:
            raise InputError(f"{where}: {key} must be {expected}, found {value!r}")

    s, v, e, t, p = config.search, config.verification, config.embedding, config.tribunal, config.policy
    need(s.backend in SEARCH_BACKENDS, "search.backend", " or ".join(SEARCH_BACKENDS), s.backend)
    need(s.query_count >= 1, "search.query_count", "at least 1", s.query_count)
    need(s.max_results_per_query >= 1, "search.max_results_per_query", "at least 1", s.max_results_per_query)
    need(s.arxiv.base_url.startswith(("http://", "https://")), "search.arxiv.base_url", "an http(s) URL", s.arxiv.base_url)
    for key in ("delay_seconds", "timeout_seconds", "backoff_seconds"):
        need(getattr(s.arxiv, key) >= 0, f"search.arxiv.{key}", "0 or more", getattr(s.arxiv, key))
    need(s.arxiv.timeout_seconds > 0, "search.arxiv.timeout_seconds", "more than 0", s.arxiv.timeout_seconds)
    need(s.arxiv.max_retries >= 0, "search.arxiv.max_retries", "0 or more", s.arxiv.max_retries)
    need(s.arxiv.empty_page_retries >= 0, "search.arxiv.empty_page_retries", "0 or more", s.arxiv.empty_page_retries)
    need(s.arxiv.page_size >= 1, "search.arxiv.page_size", "at least 1", s.arxiv.page_size)

    c = config.claims
    need(c.source in CLAIM_SOURCES, "claims.source", " or ".join(CLAIM_SOURCES), c.source)
    need(c.max_claims >= 1, "claims.max_claims", "at least 1", c.max_claims)
    f = c.full_text
    need(f.base_url.startswith(("http://", "https://")), "claims.full_text.base_url", "an http(s) URL", f.base_url)
    for key in ("delay_seconds", "backoff_seconds"):
        need(getattr(f, key) >= 0, f"claims.full_text.{key}", "0 or more", getattr(f, key))
    need(f.timeout_seconds > 0, "claims.full_text.timeout_seconds", "more than 0", f.timeout_seconds)
    need(f.max_retries >= 0, "claims.full_text.max_retries", "0 or more", f.max_retries)
    need(f.max_body_bytes >= 1, "claims.full_text.max_body_bytes", "at least 1", f.max_body_bytes)
    need(f.on_failure in FULL_TEXT_FAILURE, "claims.full_text.on_failure", " or ".join(FULL_TEXT_FAILURE), f.on_failure)

    from generator.pipeline.verification import VERIFIERS

    need(v.verifier in VERIFIERS, "verification.verifier", "one of " + ", ".join(sorted(VERIFIERS)), v.verifier)
    need(v.threshold is None or 0 <= v.threshold <= 1, "verification.threshold", "a number in [0, 1] or null", v.threshold)
    need(v.max_sources_per_claim is None or v.max_sources_per_claim >= 1, "verification.max_sources_per_claim",
         "at least 1 or null", v.max_sources_per_claim)

    need(e.backend in EMBEDDING_BACKENDS, "embedding.backend", " or ".join(EMBEDDING_BACKENDS), e.backend)
    need(bool(e.model.strip()), "embedding.model", "a model name", e.model)
    need(e.dimension >= 1, "embedding.dimension", "at least 1", e.dimension)
    need(e.base_url.startswith(("http://", "https://")), "embedding.base_url", "an http(s) URL", e.base_url)
    need(bool(e.api_key_env.strip()), "embedding.api_key_env", "an environment variable name", e.api_key_env)
    need(e.timeout_seconds > 0, "embedding.timeout_seconds", "more than 0", e.timeout_seconds)
    need(e.max_retries >= 0, "embedding.max_retries", "0 or more", e.max_retries)

    need(t.backend in TRIBUNAL_BACKENDS, "tribunal.backend", " or ".join(TRIBUNAL_BACKENDS), t.backend)
    if t.backend == "openai-compatible":
        need(bool(t.model and t.model.strip()), "tribunal.model", "a chat model name for backend openai-compatible", t.model)
    need(t.base_url.startswith(("http://", "https://")), "tribunal.base_url", "an http(s) URL", t.base_url)
    need(bool(t.api_key_env.strip()), "tribunal.api_key_env", "an environment variable name", t.api_key_env)
    need(t.timeout_seconds > 0, "tribunal.timeout_seconds", "more than 0", t.timeout_seconds)
    need(t.max_retries >= 0, "tribunal.max_retries", "0 or more", t.max_retries)
    need(0 <= t.reject_below <= 10, "tribunal.reject_below", "a score in [0, 10]", t.reject_below)
    need(t.reject_below <= t.revision_threshold <= 10, "tribunal.revision_threshold",
         f"a score in [{t.reject_below:g}, 10] (not below tribunal.reject_below)", t.revision_threshold)
    need(t.max_revision_rounds >= 0, "tribunal.max_revision_rounds", "0 or more", t.max_revision_rounds)
    need(0 <= t.revision_min_confidence <= 1, "tribunal.revision_min_confidence", "a number in [0, 1]", t.revision_min_confidence)
    need(t.revision_queries_per_claim >= 0, "tribunal.revision_queries_per_claim", "0 or more",
         t.revision_queries_per_claim)
    need(0 <= t.temperature <= 2, "tribunal.temperature", "a number in [0, 2]", t.temperature)

    unknown = [r for r in p.rules if r not in POLICY_RULES]
    need(not unknown, "policy.rules", "a list of rule names from " + ", ".join(POLICY_RULES), unknown)
    need(len(set(p.rules)) == len(p.rules), "policy.rules", "a list without repeats", list(p.rules))
    need(0 <= p.min_verified_share <= 1, "policy.min_verified_share", "a number in [0, 1]", p.min_verified_share)


def config_from_dict(data: Any, where: str = "configuration") -> PipelineConfig:
    config = _build(PipelineConfig, data, "", where)
    _check(config, where)
    return config


# ---------------------------------------------------------------------------------------------------
# Overrides and files


def parse_override(text: str) -> tuple[list[str], Any]:
    """``search.backend=arxiv`` -> (["search", "backend"], "arxiv"); the value is read as YAML (``null``, numbers, lists)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--set {text!r}: expected SECTION.KEY=VALUE, e.g. --set search.backend=arxiv")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise InputError(f"--set {text!r}: the value is not valid YAML ({_yaml_error(exc)})") from None
    return [part.strip() for part in key.strip().split(".")], value


def _yaml_error(exc: yaml.YAMLError) -> str:
    """PyYAML's message without its ``in "<unicode string>"`` (the caller names the file): line, column, problem."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = " ".join(str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part)
    return f"not valid YAML: {where}{what or type(exc).__name__}"


def _apply(data: dict, path: list[str], value: Any, source: str) -> None:
    node = data
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise InputError(f"{source}: {'.'.join(path)} is inside a key that is not a section")
        node = child
    node[path[-1]] = value


def read_config_file(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such config file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: {_yaml_error(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{path}: the top level must be a mapping of sections (search, claims, verification, embedding, "
                         "tribunal, policy)")
    return data


def load_config(path: Path | None = None, overrides: Sequence[str] = (), *, offline: bool = False,
                default_file: Path | None = DEFAULT_CONFIG_FILE) -> PipelineConfig:
    """The configuration of a run: defaults, then ``path`` (or ``sovereign.yml`` if it exists), then ``--set``
    overrides in order, then ``--offline`` (forces ``search.backend: offline``)."""
    if path is None and default_file is not None and Path(default_file).is_file():
        path = Path(default_file)
    data = read_config_file(path) if path is not None else {}
    where = str(path) if path is not None else "configuration"
    if overrides:
        where = f"{where} with --set overrides" if path is not None else "--set overrides"
    for text in overrides:
        keys, value = parse_override(text)
        _apply(data, keys, value, f"--set {text!r}")
    if offline:
        _apply(data, ["search", "backend"], "offline", "--offline")
    return config_from_dict(data, where)


__all__ = [
    "ArxivConfig",
    "ClaimsConfig",
    "FullTextConfig",
    "DEFAULT_CONFIG_FILE",
    "EmbeddingConfig",
    "PipelineConfig",
    "PolicyConfig",
    "POLICY_RULES",
    "SearchConfig",
    "TribunalConfig",
    "VerificationConfig",
    "config_from_dict",
    "load_config",
    "parse_override",
]

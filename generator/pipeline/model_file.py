"""The trained verifiers shipped as JSON: the stance model's coefficients and the learnt thresholds.

Training on the SciFact train split takes about ten seconds (features of 2,537 pairs, six fits); every
process that verified a claim used to pay it. ``generator/data/verifier_model.json`` holds its result as
plain numbers (never a pickle): the standardisation, coefficients and intercepts of the logistic
regression, stance-lr's SUPPORT threshold, coverage-stance's two thresholds, and the SHA-256 of the data
files they were learnt from. Python writes a float in JSON as its shortest round-tripping repr, so
reading the file gives back the very same float64 values; ``tests/test_verification.py`` retrains and
compares them exactly. The IDF the features are read with is not stored: it is a count over the shipped
corpus (47,270 words), recomputed on load in about two seconds, with no choice in it.

Regenerate after changing the features, the training or the data::

    python -m generator.pipeline.model_file generator/data/verifier_model.json
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from generator.errors import InputError
from generator.pipeline import stance
from generator.scifact import load_scifact, shipped_dir

FORMAT = "verifier-model-v1"
COMMAND = "python -m generator.pipeline.model_file generator/data/verifier_model.json"


def shipped_path() -> Path:
    return Path(str(resources.files("generator") / "data" / "verifier_model.json"))


@dataclass(frozen=True)
class TrainedVerifiers:
    """What training on one set of claims gives: the stance model (with stance-lr's threshold) and the
    coverage and direction thresholds of coverage-stance, with the SHA-256 of the data files used."""

    stance: stance.TrainedStance
    coverage_threshold: float
    direction_threshold: float
    data_files: tuple[tuple[str, str], ...]


def to_json(trained: TrainedVerifiers) -> dict[str, Any]:
    model = trained.stance.model
    return {
        "format": FORMAT,
        "command": COMMAND,
        "training_data_sha256": dict(trained.data_files),
        "features": stance.FEATURE_SET,
        "feature_names": list(stance.FEATURE_NAMES),
        "classes": list(stance.CLASSES),
        "idf_documents": trained.stance.idf.documents,
        "stance": {
            "threshold": trained.stance.threshold,
            "examples": trained.stance.examples,
            "mean": model.mean.tolist(),
            "scale": model.scale.tolist(),
            "coef": model.coef.tolist(),
            "intercept": model.intercept.tolist(),
            "digest": model.digest,
        },
        "coverage_stance": {
            "coverage_threshold": trained.coverage_threshold,
            "direction_threshold": trained.direction_threshold,
        },
    }


def write(trained: TrainedVerifiers, path: Path) -> None:
    path.write_text(json.dumps(to_json(trained), indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _expect(condition: bool, path: Path, pointer: str, expected: str) -> None:
    if not condition:
        raise InputError(f"{path}: {pointer}: expected {expected}; regenerate it with `{COMMAND}`")


def from_json(data: dict[str, Any], idf: stance.Idf, path: Path) -> TrainedVerifiers:
    """The trained verifiers a JSON object describes, read with ``idf``; errors name the file and pointer."""
    _expect(data.get("format") == FORMAT, path, "/format", repr(FORMAT))
    _expect(data.get("features") == stance.FEATURE_SET and data.get("feature_names") == list(stance.FEATURE_NAMES),
            path, "/features", f"{stance.FEATURE_SET} with the feature names of this version")
    _expect(data.get("classes") == list(stance.CLASSES), path, "/classes", str(list(stance.CLASSES)))
    _expect(data.get("idf_documents") == idf.documents, path, "/idf_documents", f"{idf.documents} (the corpus read)")
    s, c = data.get("stance") or {}, data.get("coverage_stance") or {}
    shapes = {"mean": (len(stance.FEATURE_NAMES),), "scale": (len(stance.FEATURE_NAMES),),
              "coef": (len(stance.CLASSES), len(stance.FEATURE_NAMES)), "intercept": (len(stance.CLASSES),)}
    arrays = {}
    for key, shape in shapes.items():
        try:
            arrays[key] = np.array(s.get(key), dtype=np.float64)
        except (TypeError, ValueError):
            arrays[key] = np.zeros(0)
        _expect(arrays[key].shape == shape, path, f"/stance/{key}", f"numbers of shape {shape}")
    model = stance.StanceModel(arrays["mean"], arrays["scale"], arrays["coef"], arrays["intercept"])
    _expect(model.digest == s.get("digest"), path, "/stance/digest", "the SHA-256 of the coefficients stored")
    for pointer, value in (("/stance/threshold", s.get("threshold")), ("/coverage_stance/coverage_threshold",
                           c.get("coverage_threshold")), ("/coverage_stance/direction_threshold", c.get("direction_threshold"))):
        _expect(isinstance(value, float) and 0 <= value <= 1, path, pointer, "a number in [0, 1]")
    _expect(isinstance(s.get("examples"), int), path, "/stance/examples", "an integer")
    files = data.get("training_data_sha256")
    _expect(isinstance(files, dict), path, "/training_data_sha256", "an object of file name -> SHA-256")
    return TrainedVerifiers(stance.TrainedStance(model, idf, s["threshold"], s["examples"]),
                            c["coverage_threshold"], c["direction_threshold"], tuple(sorted(files.items())))


def load(path: Path | None = None) -> TrainedVerifiers:
    """The shipped trained verifiers, checked against the shipped SciFact files they were trained on."""
    path = path or shipped_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; generate it with `{COMMAND}`") from None
    except ValueError as exc:
        raise InputError(f"{path}: malformed JSON ({exc})") from None
    _expect(isinstance(data, dict), path, "(top level)", "a JSON object")
    dataset = load_scifact(shipped_dir(), "train")
    _expect(data.get("training_data_sha256") == dict(sorted(dataset.data_files.items())), path,
            "/training_data_sha256", f"the SHA-256 of the shipped SciFact files {dict(sorted(dataset.data_files.items()))}")
    idf = stance.Idf.fit([document.text for document in dataset.corpus.values()])
    return from_json(data, idf, path)


def main(argv: list[str] | None = None) -> int:
    """Retrain on the shipped SciFact train split and write the JSON to the path given."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: {COMMAND.replace('generator/data/verifier_model.json', 'OUT.json')}", file=sys.stderr)
        return 2
    from generator.pipeline.verification import train_shipped  # the training lives with the verifiers

    write(train_shipped(), Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

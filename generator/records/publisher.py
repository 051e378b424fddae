"""Who publishes the records, under which licence, and who is credited: ``extra.publisher`` in mkdocs.yml.

The citation exports (DataCite, BibTeX, RIS, CSL-JSON), the record pages' Signposting links and their
JSON-LD read these identifiers, so a wrong one would be copied into every citation and DOI record. Each
is checked when the file is read, and a bad value is an error naming the file and the key:

* ``ror``: the publisher's ROR id as its URL, ``https://ror.org/0`` + six Crockford base32 characters + the
  two check digits ROR computes (ISO/IEC 7064 MOD 97-10 of the base32 number);
* ``creators[].orcid``: an ORCID iD as its URL, ``https://orcid.org/0000-0000-0000-000X``, with its ISO 7064
  MOD 11-2 check character;
* ``license.url``: a plain https URL.

Every key is optional. Without the section the publisher is the one each record names, with no
identifier and no stated licence, and the publisher (an organisation) is the records' creator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from generator.errors import InputError

SECTION = "extra.publisher"
_ROR = re.compile(r"https://ror\.org/0([0-9a-hjkmnp-tv-z]{6})([0-9]{2})", re.ASCII)
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ORCID = re.compile(r"https://orcid\.org/([0-9]{4})-([0-9]{4})-([0-9]{4})-([0-9]{3}[0-9X])", re.ASCII)
_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~%/+:@!$,;=-]*)?", re.ASCII)
_SPDX = re.compile(r"[A-Za-z0-9.+-]{1,64}", re.ASCII)


@dataclass(frozen=True)
class Person:
    """A person credited as a creator of every record (DataCite nameType Personal)."""

    given: str
    family: str
    orcid: str | None = None  # https://orcid.org/..., checked

    @property
    def name(self) -> str:
        """The name as DataCite and BibTeX write it: 'Family, Given'."""
        return f"{self.family}, {self.given}" if self.given else self.family


@dataclass(frozen=True)
class License:
    url: str
    name: str | None = None
    spdx: str | None = None  # SPDX identifier, e.g. CC-BY-4.0


@dataclass(frozen=True)
class Publisher:
    """The publisher's configured identity; ``name`` None means 'the one each record names'."""

    name: str | None = None
    ror: str | None = None
    license: License | None = None
    creators: tuple[Person, ...] = ()

    def ror_for(self, publisher_name: str | None) -> str | None:
        """The ROR id of the publisher a record names: only when it is the configured publisher."""
        return self.ror if self.ror and publisher_name is not None and publisher_name == self.name else None


def ror_problem(value) -> str | None:
    """Why ``value`` is not a ROR id URL (None when it is one, check digits included)."""
    match = _ROR.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return "expected a ROR id as its URL, https://ror.org/0 followed by 6 base32 characters and 2 digits"
    number = 0
    for char in match[1]:
        number = number * 32 + _CROCKFORD.index(char)
    expected = f"{98 - (number * 100) % 97:02d}"
    if match[2] != expected:
        return f"the check digits of this ROR id are wrong (expected {expected}): it is mistyped"
    return None


def orcid_check_character(digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an ORCID iD's first 15 digits."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def orcid_problem(value) -> str | None:
    """Why ``value`` is not an ORCID iD URL (None when it is one, check character included)."""
    match = _ORCID.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return "expected an ORCID iD as its URL, https://orcid.org/0000-0000-0000-000X"
    digits = "".join(match.groups())
    expected = orcid_check_character(digits[:15])
    if digits[15] != expected:
        return f"the check character of this ORCID iD is wrong (expected {expected}): it is mistyped"
    return None


def _text(where: str, value, key: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or any(ord(c) < 32 for c in value):
        raise InputError(f"{where}: {key}: expected a non-empty line of text, found {value!r}")
    return " ".join(value.split())


def _mapping(where: str, value, key: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise InputError(f"{where}: {key}: expected a mapping with keys {', '.join(sorted(allowed))}, found {value!r}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InputError(f"{where}: {key}.{unknown[0]}: unknown key (known: {', '.join(sorted(allowed))})")
    return value


def parse_publisher(section, where: str) -> Publisher:
    """The ``extra.publisher`` mapping of ``where`` (a file name for the messages), checked."""
    if section is None:
        return Publisher()
    section = _mapping(where, section, SECTION, {"name", "ror", "license", "creators"})
    name = _text(where, section.get("name"), f"{SECTION}.name")
    ror = section.get("ror")
    if ror is not None:
        if name is None:
            raise InputError(f"{where}: {SECTION}.ror: give {SECTION}.name too (the ROR id is the id of that publisher)")
        if problem := ror_problem(ror):
            raise InputError(f"{where}: {SECTION}.ror: {problem}; found {ror!r}")
    license_ = None
    if section.get("license") is not None:
        key = f"{SECTION}.license"
        entry = _mapping(where, section["license"], key, {"url", "name", "spdx"})
        url = entry.get("url")
        if not isinstance(url, str) or not _HTTPS_URL.fullmatch(url):
            raise InputError(f"{where}: {key}.url: expected a plain https URL, found {url!r}")
        spdx = entry.get("spdx")
        if spdx is not None and (not isinstance(spdx, str) or not _SPDX.fullmatch(spdx)):
            raise InputError(f"{where}: {key}.spdx: expected an SPDX licence identifier such as CC-BY-4.0, found {spdx!r}")
        license_ = License(url, _text(where, entry.get("name"), f"{key}.name"), spdx)
    creators = section.get("creators") or []
    if not isinstance(creators, list):
        raise InputError(f"{where}: {SECTION}.creators: expected a list of people (given, family, orcid), found {creators!r}")
    people = []
    for index, entry in enumerate(creators):
        key = f"{SECTION}.creators[{index}]"
        entry = _mapping(where, entry, key, {"given", "family", "orcid"})
        orcid = entry.get("orcid")
        if orcid is not None and (problem := orcid_problem(orcid)):
            raise InputError(f"{where}: {key}.orcid: {problem}; found {orcid!r}")
        people.append(Person(_text(where, entry.get("given"), f"{key}.given") or "",
                             _text(where, entry.get("family"), f"{key}.family", required=True), orcid))
    return Publisher(name, ror, license_, tuple(people))


def load_publisher(config_file: Path) -> Publisher:
    """The publisher section of an MkDocs config file (``Publisher()`` when it has none)."""
    import yaml

    path = Path(config_file)
    try:
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the publisher settings: {exc}") from None
    extra = (config or {}).get("extra") if isinstance(config, dict) else None
    if extra is not None and not isinstance(extra, dict):
        raise InputError(f"{path}: extra: expected a mapping, found {extra!r}")
    return parse_publisher((extra or {}).get("publisher"), str(path))


def _config_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        """A safe loader that reads MkDocs' ``!ENV`` and ``!!python/name`` tags as plain values (not this section's)."""

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    return Loader


_ConfigLoader = _config_loader()

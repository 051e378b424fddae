"""A stand-in for Zenodo's deposit API (the calls `register` makes), mounted with respx: no network.

It keeps depositions in memory as Zenodo does (draft -> files -> metadata -> published with a DOI),
checks the bearer token on every call, and can be told to fail a given call a number of times.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import httpx
import respx


@dataclass
class Deposition:
    id: int
    bucket: str
    files: dict[str, bytes] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    submitted: bool = False

    def as_json(self, base: str) -> dict:
        value = {
            "id": self.id, "submitted": self.submitted, "state": "done" if self.submitted else "unsubmitted",
            "metadata": self.metadata,
            "files": [{"filename": name, "checksum": hashlib.md5(data).hexdigest(), "filesize": len(data)}
                      for name, data in self.files.items()],
            "links": {"bucket": self.bucket, "html": f"{base}/deposit/{self.id}"},
        }
        if self.submitted:
            value.update(doi=self.doi(base), record_id=self.id)
        return value

    def doi(self, base: str) -> str:
        prefix = "10.5072" if "sandbox" in base else "10.5281"
        return f"{prefix}/zenodo.{self.id}"


class ZenodoStandIn:
    def __init__(self, base: str, token: str):
        self.base = base
        self.token = token
        self.depositions: dict[int, Deposition] = {}
        self.faults: dict[str, list] = {}  # call name -> statuses (or exceptions to raise) before behaving
        self.calls: list[str] = []
        self.next_id = 123

    def fail(self, call: str, *statuses) -> None:
        self.faults[call] = list(statuses)

    def mount(self, router: respx.MockRouter) -> None:
        base = re.escape(self.base)
        router.post(url__regex=rf"^{base}/api/deposit/depositions$").mock(side_effect=self._guard("create", self.create))
        router.get(url__regex=rf"^{base}/api/deposit/depositions/(?P<number>\d+)$").mock(side_effect=self._guard("get", self.get))
        router.put(url__regex=rf"^{base}/api/deposit/depositions/(?P<number>\d+)$").mock(side_effect=self._guard("metadata", self.metadata))
        router.post(url__regex=rf"^{base}/api/deposit/depositions/(?P<number>\d+)/actions/publish$").mock(
            side_effect=self._guard("publish", self.publish))
        router.put(url__regex=rf"^{base}/api/files/(?P<bucket>[a-z0-9-]+)/(?P<name>[^/]+)$").mock(side_effect=self._guard("upload", self.upload))

    def _guard(self, name, handler):
        def respond(request: httpx.Request, **params) -> httpx.Response:
            self.calls.append(name)
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return httpx.Response(401, json={"status": 401, "message": "The server could not verify that you are authorized."})
            if self.faults.get(name):
                status = self.faults[name].pop(0)
                if isinstance(status, Exception):
                    raise status
                return httpx.Response(status, json={"status": status, "message": f"stand-in {name} failure"})
            return handler(request, **params)
        return respond

    def _find(self, number: str) -> Deposition | None:
        return self.depositions.get(int(number))

    def create(self, request):
        number = self.next_id
        self.next_id += 1
        self.depositions[number] = Deposition(number, f"{self.base}/api/files/bucket-{number}")
        return httpx.Response(201, json=self.depositions[number].as_json(self.base))

    def get(self, request, number):
        found = self._find(number)
        if found is None:
            return httpx.Response(404, json={"status": 404, "message": "PID does not exist."})
        return httpx.Response(200, json=found.as_json(self.base))

    def upload(self, request, bucket, name):
        found = next((d for d in self.depositions.values() if d.bucket.endswith("/" + bucket)), None)
        if found is None or found.submitted:
            return httpx.Response(403, json={"status": 403, "message": "bucket locked or missing"})
        found.files[name] = request.content
        return httpx.Response(201, json={"key": name, "checksum": "md5:" + hashlib.md5(request.content).hexdigest(),
                                         "size": len(request.content)})

    def metadata(self, request, number):
        found = self._find(number)
        if found.submitted:
            return httpx.Response(400, json={"status": 400, "message": "published: edit it first"})
        found.metadata = json.loads(request.content)["metadata"]
        missing = [k for k in ("title", "upload_type", "description", "creators") if not found.metadata.get(k)]
        if missing:
            return httpx.Response(400, json={"status": 400, "message": "Validation error.",
                                             "errors": [{"field": k, "message": "Field is required."} for k in missing]})
        return httpx.Response(200, json=found.as_json(self.base))

    def publish(self, request, number):
        found = self._find(number)
        if found.submitted:
            return httpx.Response(400, json={"status": 400, "message": "Deposition already published."})
        if not found.files or not found.metadata:
            return httpx.Response(400, json={"status": 400, "message": "Missing files or metadata."})
        found.submitted = True
        return httpx.Response(202, json=found.as_json(self.base))

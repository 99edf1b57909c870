#!/usr/bin/env python3
"""The partner simulator: the tax office (DGFiP), France Travail, the national identity registry (Insee) and the
agency's case system (Caf), served from a reference dataset by one local HTTP process (issue 11, item 5).

    python scripts/partners/simulator.py DATASET.json [--host 127.0.0.1] [--port 9321]

Python's standard library only (no Django): `make run` and the tests start it as a separate process. The dataset is
written by `manage.py partners_dataset` (moncompte/partners/dataset.py); the contracts are in docs/partners.md.

Each partner answers under its own prefix (/dgfip/, /france-travail/, /insee/, /caf/), questions are POSTed as JSON
(a NIR never travels in a URL) and, when a token is set for a partner (the dataset's "tokens", the environment's
PARTNERS_TOKEN_DGFIP…, or the control API), it must come as `Authorization: Bearer <token>`.

The control API, for tests and demos (loopback only; nothing guards it):
    POST /_control/<partner>   {"mode": "ok" | "slow" | "fail" | "down" | "malformed", "delay": seconds,
                                "token": "…"}
                               slow: waits `delay` seconds, then answers; fail: HTTP 500; down: closes the
                               connection without answering; malformed: 200 with an answer off the contract
    POST /_control/records     {"people": {nir: record}, "cases": {number: record}}: adds or replaces records
    POST /_control/reset       the dataset as loaded, every partner "ok", counters at zero
    GET  /_control/requests    how many questions each partner received since the last reset
    GET  /_health              {"status": "ok"}

One log line per request on stderr: time, method, path, status, duration, never a body (so never a NIR); digits
that could be a NIR in a path are masked all the same. SIGTERM and SIGINT stop it cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
import unicodedata
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARTNERS = ("dgfip", "france-travail", "insee", "caf")
MODES = ("ok", "slow", "fail", "down", "malformed")
MAX_BODY = 1024 * 1024
DEFAULT_DELAY = 5.0
NIR = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}$")
CASE_NUMBER = re.compile(r"^[0-9]{7}$")
LETTER_ID = re.compile(r"^[A-Za-z0-9-]{1,40}$")
_DIGITS = re.compile(r"[0-9]{6,}")
NOT_REGISTERED = {"inscrit": False, "categorie": "", "date_inscription": None, "allocations": []}


class BadRequest(Exception):
    pass


def fold(text: str) -> str:
    """« Léa-Marie » and "LEA MARIE" compare alike: no case, no accents, letters and digits only (the registry's
    comparison: a typed name is not refused for an accent or a hyphen)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c) and c.isalnum())


def given_names_match(typed: str, registered: str) -> bool:
    """The given names typed must be the registry's, in order, from the first: "Thomas" and "Thomas Jean" match
    "Thomas Jean", "Jean" does not."""
    typed_names = [fold(name) for name in re.split(r"[\s,]+", typed) if fold(name)]
    registered_names = [fold(name) for name in re.split(r"[\s,]+", registered) if fold(name)]
    return bool(typed_names) and registered_names[: len(typed_names)] == typed_names


class State:
    """The records and each partner's mode, shared by the request threads."""

    def __init__(self, dataset: dict) -> None:
        self.dataset = dataset
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.people = copy.deepcopy(self.dataset.get("people", {}))
            self.cases = copy.deepcopy(self.dataset.get("cases", {}))
            self.modes = {partner: {"mode": "ok", "delay": DEFAULT_DELAY} for partner in PARTNERS}
            tokens = self.dataset.get("tokens", {})
            self.tokens = {
                partner: tokens.get(partner)
                or os.environ.get(f"PARTNERS_TOKEN_{partner.upper().replace('-', '_')}", "")
                for partner in PARTNERS
            }
            self.requests = dict.fromkeys(PARTNERS, 0)

    def control(self, partner: str, body: dict) -> dict:
        mode = body.get("mode", "ok")
        delay = body.get("delay", DEFAULT_DELAY)
        if mode not in MODES or isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 60:
            raise BadRequest
        with self.lock:
            self.modes[partner] = {"mode": mode, "delay": float(delay)}
            if "token" in body:
                if not isinstance(body["token"], str):
                    raise BadRequest
                self.tokens[partner] = body["token"]
            return dict(self.modes[partner])

    def add(self, body: dict) -> dict:
        people, cases = body.get("people", {}), body.get("cases", {})
        if not isinstance(people, dict) or not isinstance(cases, dict):
            raise BadRequest
        with self.lock:
            self.people.update(copy.deepcopy(people))
            self.cases.update(copy.deepcopy(cases))
            return {"people": len(self.people), "cases": len(self.cases)}

    def person(self, nir: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.people.get(nir, {}))

    def case(self, number: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.cases.get(number, {}))


# --- The partners' answers -------------------------------------------------------------------------------------------
# Each takes the JSON question and returns (status, JSON answer) or (status, bytes, content type).


def _field(body: dict, name: str, pattern: re.Pattern | None = None, *, max_length: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or len(value) > max_length or (pattern is not None and not pattern.match(value)):
        raise BadRequest
    return value


def _day(body: dict, name: str) -> date:
    try:
        return date.fromisoformat(_field(body, name, re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")))
    except ValueError:
        raise BadRequest from None


def dgfip_notice(state: State, body: dict):
    nir = _field(body, "nir", NIR)
    year = body.get("annee")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        raise BadRequest
    # An unknown NIR and a year without a return get the same answer.
    return 200, {"avis": state.person(nir).get("avis", {}).get(str(year))}


def france_travail_situation(state: State, body: dict):
    return 200, state.person(_field(body, "nir", NIR)).get("france_travail") or dict(NOT_REGISTERED)


REGISTRY_FIELDS = ("nom_naissance", "prenoms", "date_naissance", "sexe", "commune_naissance", "pays_naissance")


def insee_check(state: State, body: dict):
    nir = _field(body, "nir", NIR)
    typed = {name: _field(body, name) for name in REGISTRY_FIELDS}
    status = state.person(nir).get("etat_civil")
    # An unknown NIR and a mismatch get the same answer, and the same work: nothing tells whether a NIR exists.
    status = status or {name: "" for name in REGISTRY_FIELDS}
    checks = [
        bool(status["nom_naissance"]) and fold(typed["nom_naissance"]) == fold(status["nom_naissance"]),
        given_names_match(typed["prenoms"], status["prenoms"]),
        typed["date_naissance"] == status["date_naissance"],
        typed["sexe"].upper() == status["sexe"],
        typed["commune_naissance"].upper() == status["commune_naissance"].upper(),
        typed["pays_naissance"] == status["pays_naissance"],
    ]
    return 200, {"correspondance": all(checks)}


def caf_payments(state: State, body: dict):
    since = _day(body, "depuis").isoformat()
    case = state.case(_field(body, "numero_allocataire", CASE_NUMBER))
    return 200, {"paiements": [p for p in case.get("paiements", []) if p.get("date", "") >= since]}


def caf_letters(state: State, body: dict):
    case = state.case(_field(body, "numero_allocataire", CASE_NUMBER))
    return 200, {
        "courriers": [{k: v for k, v in letter.items() if k != "pdf"} for letter in case.get("courriers", [])]
    }


def caf_letter_document(state: State, body: dict):
    case = state.case(_field(body, "numero_allocataire", CASE_NUMBER))
    letter_id = _field(body, "id", LETTER_ID, max_length=40)
    for letter in case.get("courriers", []):
        if letter.get("id") == letter_id and letter.get("pdf"):
            try:
                return 200, base64.b64decode(letter["pdf"], validate=True), "application/pdf"
            except (binascii.Error, ValueError):
                return 500, {"erreur": "document_illisible"}
    return 404, {"erreur": "courrier_inconnu"}


def caf_requests(state: State, body: dict):
    case = state.case(_field(body, "numero_allocataire", CASE_NUMBER))
    return 200, {"demandes": case.get("demandes", [])}


ROUTES = {
    "/dgfip/avis-impot": ("dgfip", dgfip_notice),
    "/france-travail/situation": ("france-travail", france_travail_situation),
    "/insee/verification": ("insee", insee_check),
    "/caf/paiements": ("caf", caf_payments),
    "/caf/courriers": ("caf", caf_letters),
    "/caf/courriers/document": ("caf", caf_letter_document),
    "/caf/demandes": ("caf", caf_requests),
}
MALFORMED = {"inattendu": True, "avis": "?", "inscrit": "peut-être", "paiements": [{"date": "hier"}]}


# --- HTTP ------------------------------------------------------------------------------------------------------------


def masked_path(path: str) -> str:
    """The path without its query, and without any run of 6 digits or more (a NIR, a case number) in it."""
    return _DIGITS.sub("[…]", path.split("?", 1)[0])[:200]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "partners-simulator"
    sys_version = ""
    state: State  # set on the class by make_server

    def log_request(self, code="-", size="-") -> None:
        duration = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        status = code.value if isinstance(code, HTTPStatus) else code
        sys.stderr.write(
            f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {self.command} {masked_path(self.path)} {status} {duration:.0f}ms\n"
        )
        sys.stderr.flush()

    def log_message(self, format, *args) -> None:
        pass  # errors are logged by log_request only, without the request line (which could hold a query string)

    def log_error(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._started = time.monotonic()
        path = self.path.split("?", 1)[0]
        if path == "/_health":
            self._send(200, {"status": "ok"})
        elif path == "/_control/requests":
            with self.state.lock:
                self._send(200, dict(self.state.requests))
        elif path in ROUTES:
            self._send(405, {"erreur": "methode_non_permise"}, headers={"Allow": "POST"})
        else:
            self._send(404, {"erreur": "introuvable"})

    def do_POST(self) -> None:
        self._started = time.monotonic()
        path = self.path.split("?", 1)[0]
        try:
            body = self._body()
        except BadRequest:
            self._send(400, {"erreur": "requete_invalide"})
            return
        if path.startswith("/_control/"):
            self._control(path.removeprefix("/_control/"), body)
            return
        if path not in ROUTES:
            self._send(404, {"erreur": "introuvable"})
            return
        partner, answer = ROUTES[path]
        with self.state.lock:
            self.state.requests[partner] += 1
            mode = dict(self.state.modes[partner])
            token = self.state.tokens[partner]
        if mode["mode"] == "down":
            self.close_connection = True
            self.log_request("closed")
            return  # nothing written: the client sees the connection close without an answer
        if mode["mode"] == "slow":
            time.sleep(mode["delay"])
        if mode["mode"] == "fail":
            self._send(500, {"erreur": "erreur_interne"})
            return
        if token and not hmac.compare_digest(self.headers.get("Authorization", ""), f"Bearer {token}"):
            self._send(401, {"erreur": "jeton_invalide"}, headers={"WWW-Authenticate": "Bearer"})
            return
        if mode["mode"] == "malformed":
            self._send(200, MALFORMED)
            return
        try:
            result = answer(self.state, body)
        except BadRequest:
            self._send(400, {"erreur": "requete_invalide"})
            return
        except Exception:  # a record pushed off the contract: the partner errs, as a real one would
            self._send(500, {"erreur": "erreur_interne"})
            return
        if len(result) == 3:
            self._send_bytes(result[0], result[1], result[2])
        else:
            self._send(*result)

    def _control(self, what: str, body: dict) -> None:
        try:
            if what == "reset":
                self.state.reset()
                self._send(200, {"status": "ok"})
            elif what == "records":
                self._send(200, self.state.add(body))
            elif what in PARTNERS:
                self._send(200, self.state.control(what, body))
            else:
                self._send(404, {"erreur": "introuvable"})
        except BadRequest:
            self._send(400, {"erreur": "requete_invalide"})

    def _body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest from None
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            raise BadRequest
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw)
        except ValueError:
            raise BadRequest from None
        if not isinstance(body, dict):
            raise BadRequest
        return body

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        content = json.dumps(payload, ensure_ascii=False).encode()
        self._send_bytes(status, content, "application/json; charset=utf-8", headers)

    def _send_bytes(self, status: int, content: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow answer never holds the process at exit
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        """One line, not a traceback: the usual case is a client that gave up on a slow answer."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} error {type(error).__name__}\n")


def make_server(dataset: dict, host: str, port: int) -> Server:
    handler = type("BoundHandler", (Handler,), {"state": State(dataset)})
    return Server((host, port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="the reference dataset (manage.py partners_dataset)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9321, help="0: any free port (printed on the first line)")
    options = parser.parse_args(argv)
    try:
        with open(options.dataset, encoding="utf-8") as file:
            dataset = json.load(file)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"partners simulator: cannot read the dataset {options.dataset}: {error}\n")
        return 2
    try:
        server = make_server(dataset if isinstance(dataset, dict) else {}, options.host, options.port)
    except OSError as error:
        sys.stderr.write(f"partners simulator: cannot listen on {options.host}:{options.port}: {error}\n")
        return 2

    def stop(signum, frame) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    people, cases = len(dataset.get("people", {})), len(dataset.get("cases", {}))
    print(f"ready http://{host}:{port} ({people} people, {cases} cases)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The verification statement (核查结论, 2021 guide 4.1 step 6): a Word document with the content of
the guide's conclusion form — the body, the enterprise and its USCC, the year and guideline, the
initial and final report versions with their dates, the reported and verified totals and the reason
for each difference, the process (document review, site visit, every non-conformity and how it was
closed), the result 通过 / 不通过, the date and the verifiers — signed with the body's Ed25519 key
over the exact bytes of the file.

Anyone checks a statement with the body's public key: :func:`check` (``greenpark mrv verify
check-statement``) or ``openssl pkeyutl -verify -pubin -inkey body.pem -rawin -in statement.docx
-sigfile statement.sig``. Who builds it: the verifier's conclusion (:mod:`.verification`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from docx import Document
from docx.shared import Pt

from greenpark.i18n import N_, tr
from greenpark.services.mrv import keys

#: Labels of the statement (English ids of the catalogue; the document is in the language chosen).
L = {
    "title": N_("Verification conclusion of the enterprise GHG emission report"),
    "basis": N_(
        "Verified under the Guidelines for verifying enterprise GHG emission reports (trial), 环办气候函〔2021〕130号."
    ),
    "body": N_("Verification body"),
    "body_uscc": N_("USCC of the verification body"),
    "accreditation": N_("Accreditation"),
    "enterprise": N_("Reporting enterprise"),
    "uscc": N_("Unified social credit code (USCC)"),
    "year": N_("Reporting year"),
    "guideline": N_("Accounting guideline"),
    "initial": N_("Initial report"),
    "final": N_("Final report"),
    "version_date": N_("version {version}, submitted {date}"),
    "emissions": N_("Emissions"),
    "reported": N_("Initially reported total (t CO₂)"),
    "verified": N_("Verified total (t CO₂)"),
    "item": N_("Item"),
    "reported_t": N_("Reported (t CO₂)"),
    "verified_t": N_("Verified (t CO₂)"),
    "reason": N_("Reason for the difference"),
    "no_difference": N_("No difference between the reported and the verified emissions."),
    "process": N_("Verification process"),
    "doc_review": N_(
        "Document review: {n} items checked ({conform} conform, {nonconform} do not conform, {na} not applicable), {date}."
    ),
    "site_visit": N_("Site visit on {date} by {team}."),
    "ncrs": N_("Non-conformities"),
    "no_ncr": N_("No non-conformity was raised."),
    "ncr_closed": N_("closed: {note}"),
    "ncr_estimated": N_("not remedied; conservative estimate {t} t CO₂: {reasoning}"),
    "after_ncrs": N_(
        "The conclusion was drawn after every non-conformity was closed or settled by a conservative estimate."
    ),
    "result": N_("Conclusion"),
    "pass": N_("Pass"),
    "fail": N_("Fail"),
    "date": N_("Date of the conclusion"),
    "verifiers": N_("Verifiers"),
    "signature": N_(
        "This document is signed with the verification body's Ed25519 key; check it with the body's public key: openssl pkeyutl -verify -pubin -inkey body.pem -rawin -in statement.docx -sigfile statement.sig"
    ),
}


@dataclass
class StatementData:
    """What a statement says (totals in t CO₂; dates as dates)."""

    body_name: str
    body_uscc: str
    body_accreditation: str
    enterprise_name: str
    enterprise_uscc: str
    year: int
    guideline: str
    initial_version: int
    initial_date: date
    final_version: int
    final_date: date
    reported_total_co2_t: float
    verified_total_co2_t: float
    differences: list[dict[str, Any]]
    doc_review: list[dict[str, Any]]
    doc_review_date: date | None
    site_visit_date: date | None
    site_visit_team: str
    ncrs: list[dict[str, Any]]
    conclusion: str  # pass | fail
    concluded_on: date
    verifiers: list[str] = field(default_factory=list)


def _t(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}"


def build(d: StatementData, lang: str = "zh") -> bytes:
    """The statement as a .docx in ``lang`` (zh or en)."""

    def w(key: str, **params: Any) -> str:
        return tr(L[key], lang, **params)

    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(10.5)
    doc.core_properties.title = w("title")
    doc.core_properties.author = d.body_name
    doc.add_heading(w("title"), level=1)
    doc.add_paragraph(w("basis"))

    rows = [
        (w("body"), d.body_name), (w("body_uscc"), d.body_uscc or "–"),
        (w("accreditation"), d.body_accreditation or "–"), (w("enterprise"), d.enterprise_name),
        (w("uscc"), d.enterprise_uscc or "–"), (w("year"), str(d.year)), (w("guideline"), d.guideline or "–"),
        (w("initial"), w("version_date", version=d.initial_version, date=d.initial_date.isoformat())),
        (w("final"), w("version_date", version=d.final_version, date=d.final_date.isoformat())),
    ]  # fmt: skip
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for k, v in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = k, v

    doc.add_heading(w("emissions"), level=2)
    totals = doc.add_table(rows=0, cols=2)
    totals.style = "Table Grid"
    for k, v in ((w("reported"), _t(d.reported_total_co2_t)), (w("verified"), _t(d.verified_total_co2_t))):
        cells = totals.add_row().cells
        cells[0].text, cells[1].text = k, v
    if d.differences:
        diff = doc.add_table(rows=1, cols=4)
        diff.style = "Table Grid"
        for cell, key in zip(diff.rows[0].cells, ("item", "reported_t", "verified_t", "reason"), strict=True):
            cell.text = w(key)
        for x in d.differences:
            cells = diff.add_row().cells
            cells[0].text, cells[1].text = str(x["item"]), _t(x.get("reported_t"))
            cells[2].text, cells[3].text = _t(x.get("verified_t")), str(x["reason"])
    else:
        doc.add_paragraph(w("no_difference"))

    doc.add_heading(w("process"), level=2)
    counts = {
        r: sum(1 for x in d.doc_review if x.get("result") == r) for r in ("conforms", "nonconform", "na")
    }
    doc.add_paragraph(
        w("doc_review", n=len(d.doc_review), conform=counts["conforms"], nonconform=counts["nonconform"],
          na=counts["na"], date=d.doc_review_date.isoformat() if d.doc_review_date else "–"),
        style="List Bullet",
    )  # fmt: skip
    doc.add_paragraph(
        w("site_visit", date=d.site_visit_date.isoformat() if d.site_visit_date else "–", team=d.site_visit_team or "–"),
        style="List Bullet",
    )  # fmt: skip
    doc.add_heading(w("ncrs"), level=3)
    if not d.ncrs:
        doc.add_paragraph(w("no_ncr"))
    for n in d.ncrs:
        how = (
            w("ncr_estimated", t=_t(n["estimate_co2_t"]), reasoning=n["estimate_reasoning"])
            if n["status"] == "estimated"
            else w("ncr_closed", note=n["close_note"] or "–")
        )
        clause = f" ({n['clause']})" if n["clause"] else ""
        doc.add_paragraph(f"#{n['number']}{clause} {n['description']} — {how}", style="List Number")
    doc.add_paragraph(w("after_ncrs"))

    doc.add_heading(w("result"), level=2)
    doc.add_paragraph().add_run(w("pass" if d.conclusion == "pass" else "fail")).bold = True
    end = doc.add_table(rows=0, cols=2)
    end.style = "Table Grid"
    for k, v in ((w("date"), d.concluded_on.isoformat()), (w("verifiers"), "、".join(d.verifiers) or "–")):
        cells = end.add_row().cells
        cells[0].text, cells[1].text = k, v
    doc.add_paragraph(w("signature"))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def signature_bytes(signature: bytes) -> bytes:
    """A detached signature as raw bytes: the 64 bytes of an Ed25519 signature, or the same in
    base64 text (what greenpark stores)."""
    if len(signature) == 64:
        return signature
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return signature


def check(content: bytes, signature: bytes, public_key_pem: str) -> dict[str, Any]:
    """Whether ``signature`` (raw or base64) is the body key's signature of exactly ``content``:
    ``{"valid": bool, "sha256": hex of the content, "signature_bytes": n}``. Who: anyone."""
    raw = signature_bytes(signature)
    b64 = base64.b64encode(raw).decode("ascii")
    return {"valid": keys.signature_ok(public_key_pem, content, b64), "sha256": sha256(content),
            "signature_bytes": len(raw)}  # fmt: skip

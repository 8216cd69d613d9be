"""Third-party verification on the web (issue 13 §3): the JSON API under ``/api/mrv/verifications``,
``/api/mrv/ncrs`` and ``/api/mrv/bodies``, and the page ``/mrv/verification``.

Thin over :mod:`greenpark.services.mrv.verification`: who may do what is said there (and in
:mod:`greenpark.services.mrv.access`); a refusal becomes 403, something outside the caller's reach
404, a refused value 422 with the reason. The statement, its detached signature and the body's
public key download as files anyone in reach can check with openssl.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Path, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import Field

from greenpark.services.mrv import attachments
from greenpark.services.mrv import verification as ver
from greenpark.web.deps import DB, CurrentPrincipal, SignedIn
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.mrv_api import mrv_errors
from greenpark.web.pages import render
from greenpark.web.scope import mrv_actor
from greenpark.web.uploads import upload
from greenpark.web.validation import INT32_MAX, InModel, OptYear, PathCode, Year, check_text

router = APIRouter(route_class=LocalizedRoute, tags=["mrv"])

VerificationId = Annotated[int, Path(ge=1, le=INT32_MAX, description="a verification's id")]
NcrId = Annotated[int, Path(ge=1, le=INT32_MAX, description="a non-conformity's id")]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
Tonnes = Annotated[float, Field(ge=0, le=1e10)]
Note = Annotated[str, Field(max_length=20_000)]
AFile = Annotated[UploadFile, File()]


def _file(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})  # fmt: skip


# --------------------------------------------------------------------------- bodies


class BodyIn(InModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    uscc: str = Field("", max_length=18)
    accreditation: str = Field("", max_length=200)
    contact: str = Field("", max_length=200)


class MemberIn(InModel):
    username: str = Field(min_length=1, max_length=100)


@router.get("/api/mrv/bodies")
def bodies_api(p: SignedIn, db: DB) -> list[dict[str, Any]]:
    """The park's verification bodies with their verifier members and public keys. Who: officers
    and a bureau (every body), a verifier (its bodies), an enterprise (the bodies verifying it)."""
    with mrv_errors():
        return ver.bodies(db, mrv_actor(p))


@router.post("/api/mrv/bodies")
def add_body_api(p: SignedIn, db: DB, body: BodyIn) -> dict[str, Any]:
    """Register a verification body (a signing key is made for it). Who: park officers."""
    with mrv_errors():
        b = ver.add_body(db, mrv_actor(p), code=body.code, name=body.name, uscc=body.uscc,
                         accreditation=body.accreditation, contact=body.contact)  # fmt: skip
        return ver.body_dict(db, b)


@router.post("/api/mrv/bodies/{code}/members")
def add_member_api(p: SignedIn, db: DB, code: PathCode, body: MemberIn) -> dict[str, Any]:
    """Add a verifier user of the park to a body. Who: park officers."""
    actor = mrv_actor(p)
    with mrv_errors():
        ver.add_member(db, actor, code, body.username)
        return ver.body_dict(db, ver.get_body(db, actor.park_id, code))


@router.get("/api/mrv/bodies/{code}/public-key.pem")
def body_key_api(p: SignedIn, db: DB, code: PathCode) -> Response:
    """A body's Ed25519 public key (PEM) that checks its statements. Who: signed-in users of the park."""
    with mrv_errors():
        pem = ver.body_public_key(db, mrv_actor(p).park_id, code)
    return _file(pem.encode("ascii"), "application/x-pem-file", f"{code}.pem")


# --------------------------------------------------------------------------- verifications


class AssignIn(InModel):
    enterprise_id: int = Field(ge=1, le=INT32_MAX)
    year: int = Field(ge=1900, le=2200)
    body: str = Field(min_length=1, max_length=64)


class DeclareIn(InModel):
    statement: Note
    no_conflict: bool


class ItemIn(InModel):
    item: str = Field(min_length=1, max_length=64)
    result: Literal["conforms", "nonconform", "na"]
    note: str = Field("", max_length=4000)


class ReviewIn(InModel):
    items: list[ItemIn] = Field(max_length=100)


class SiteVisitIn(ReviewIn):
    date: date
    team: str = Field(max_length=400)
    record: Note


class NcrIn(InModel):
    clause: str = Field("", max_length=200)
    description: Note
    due_date: date | None = None


class CloseNcrIn(InModel):
    note: Note


class EstimateIn(InModel):
    estimate_co2_t: Tonnes
    reasoning: Note


class DifferenceIn(InModel):
    item: str = Field(max_length=200)
    reported_t: Tonnes
    verified_t: Tonnes
    reason: str = Field(max_length=4000)


class ConcludeIn(InModel):
    conclusion: Literal["pass", "fail"]
    verified_total_co2_t: Tonnes
    verified_energy_tce: Tonnes | None = None
    differences: list[DifferenceIn] = Field(default_factory=list, max_length=200)
    lang: Literal["zh", "en"] = "zh"


class AppealIn(InModel):
    grounds: Note


class DecisionIn(InModel):
    decision: Literal["upheld", "revised"]
    note: Note
    revised_total_co2_t: Tonnes | None = None


@router.get("/api/mrv/verifications")
def verifications_api(p: SignedIn, db: DB, year: OptYear = None) -> list[dict[str, Any]]:
    """The verifications in the caller's reach: ``id``, ``enterprise``, ``year``, ``stage``,
    ``body``, ``due_date``, ``conclusion``, reported and verified totals (t CO₂), ``open_ncrs``,
    ``appeal_due_date``. Who: officers (the park's or the zone's), a verifier (its bodies'), an
    enterprise (its own)."""
    with mrv_errors():
        return ver.list_verifications(db, mrv_actor(p), year)


@router.get("/api/mrv/verifications/assignable")
def assignable_api(p: SignedIn, db: DB, year: Year) -> list[dict[str, Any]]:
    """Enterprises whose latest report of ``year`` is accepted and not yet under verification.
    Who: park officers."""
    with mrv_errors():
        return ver.assignable(db, mrv_actor(p), year)


@router.post("/api/mrv/verifications")
def assign_api(p: SignedIn, db: DB, body: AssignIn) -> dict[str, Any]:
    """Assign the verification of an enterprise's accepted report of a year to a body (the body's
    verifiers and the enterprise are told). Who: park officers."""
    with mrv_errors():
        v = ver.assign(
            db, mrv_actor(p), enterprise_id=body.enterprise_id, year=body.year, body_code=body.body
        )
        return ver.summary(db, v)


@router.get("/api/mrv/verifications/{verification_id}")
def verification_api(p: SignedIn, db: DB, verification_id: VerificationId) -> dict[str, Any]:
    """One verification: the reports, the declaration, both checklists, the site visit, the
    non-conformities with their files, the conclusion and differences, the appeal and the log.
    Who: whoever it is in reach of (404 for anyone else)."""
    with mrv_errors():
        return ver.detail(db, mrv_actor(p), verification_id)


def _act(db: DB, p: SignedIn, vid: int) -> dict[str, Any]:
    return ver.detail(db, mrv_actor(p), vid)


@router.post("/api/mrv/verifications/{verification_id}/declare")
def declare_api(p: SignedIn, db: DB, verification_id: VerificationId, body: DeclareIn) -> dict[str, Any]:
    """The conflict-of-interest declaration (``no_conflict`` false withdraws the body). Who: a
    verifier of the assigned body, before anything else."""
    with mrv_errors():
        v = ver.declare(
            db, mrv_actor(p), verification_id, statement_text=body.statement, no_conflict=body.no_conflict
        )
        return ver.summary(db, v) if v.stage == "withdrawn" else _act(db, p, verification_id)


@router.post("/api/mrv/verifications/{verification_id}/doc-review")
def doc_review_api(p: SignedIn, db: DB, verification_id: VerificationId, body: ReviewIn) -> dict[str, Any]:
    """The document review: a result and note for every checklist item. Who: a verifier of the body."""
    with mrv_errors():
        ver.doc_review(db, mrv_actor(p), verification_id, [x.model_dump() for x in body.items])
        return _act(db, p, verification_id)


@router.post("/api/mrv/verifications/{verification_id}/site-visit")
def site_visit_api(p: SignedIn, db: DB, verification_id: VerificationId, body: SiteVisitIn) -> dict[str, Any]:
    """The site visit: date, team, record and the site checklist. Who: a verifier of the body."""
    with mrv_errors():
        ver.site_visit(db, mrv_actor(p), verification_id, visit_date=body.date, team=body.team, record=body.record,
                       items=[x.model_dump() for x in body.items])  # fmt: skip
        return _act(db, p, verification_id)


@router.post("/api/mrv/verifications/{verification_id}/ncrs")
def open_ncr_api(p: SignedIn, db: DB, verification_id: VerificationId, body: NcrIn) -> dict[str, Any]:
    """Open a non-conformity for the enterprise to answer. Who: a verifier of the body."""
    with mrv_errors():
        n = ver.open_ncr(db, mrv_actor(p), verification_id, clause=body.clause, description=body.description,
                         due_date=body.due_date)  # fmt: skip
        return {"id": n.id, "number": n.number, "status": n.status}


@router.post("/api/mrv/ncrs/{ncr_id}/answer")
def answer_ncr_api(
    p: SignedIn, db: DB, ncr_id: NcrId, response: Annotated[str, Form(max_length=20_000)],
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> dict[str, Any]:  # fmt: skip
    """The enterprise's answer with its evidence files (PDF, images, Excel, Word, CSV; ≤ 10 MiB
    each). Who: the enterprise (or an officer for it). A plain function: reading the files runs in
    a worker thread."""
    actor = mrv_actor(p)
    text = check_text(response, "response")
    if len(files or []) > attachments.MAX_FILES:
        raise HTTPException(422, f"at most {attachments.MAX_FILES} files per answer")
    got = [upload(f, attachments.MAX_BYTES) for f in files or []]
    with mrv_errors():
        n = ver.answer_ncr(db, actor, ncr_id, response=text, files=got)
        return {"id": n.id, "number": n.number, "status": n.status}


@router.post("/api/mrv/ncrs/{ncr_id}/close")
def close_ncr_api(p: SignedIn, db: DB, ncr_id: NcrId, body: CloseNcrIn) -> dict[str, Any]:
    """Close an answered non-conformity as remedied. Who: a verifier of the body."""
    with mrv_errors():
        n = ver.close_ncr(db, mrv_actor(p), ncr_id, note=body.note)
        return {"id": n.id, "number": n.number, "status": n.status}


@router.post("/api/mrv/ncrs/{ncr_id}/estimate")
def estimate_ncr_api(p: SignedIn, db: DB, ncr_id: NcrId, body: EstimateIn) -> dict[str, Any]:
    """Settle a non-conformity not remedied with a conservative estimate (t CO₂) and its reasoning.
    Who: a verifier of the body."""
    with mrv_errors():
        n = ver.estimate_ncr(
            db, mrv_actor(p), ncr_id, estimate_co2_t=body.estimate_co2_t, reasoning=body.reasoning
        )
        return {"id": n.id, "number": n.number, "status": n.status}


@router.post("/api/mrv/verifications/{verification_id}/conclude")
def conclude_api(p: SignedIn, db: DB, verification_id: VerificationId, body: ConcludeIn) -> dict[str, Any]:
    """The conclusion (pass or fail) with the verified total and a reason for every difference;
    the statement is built in ``lang`` and signed with the body's key. Refused while a
    non-conformity is open. Who: a verifier of the body, after the site visit."""
    with mrv_errors():
        ver.conclude(db, mrv_actor(p), verification_id, conclusion=body.conclusion,
                     verified_total_co2_t=body.verified_total_co2_t, verified_energy_tce=body.verified_energy_tce,
                     differences=[d.model_dump() for d in body.differences], lang=body.lang)  # fmt: skip
        return _act(db, p, verification_id)


@router.get("/api/mrv/verifications/{verification_id}/statement.docx")
def statement_api(p: SignedIn, db: DB, verification_id: VerificationId) -> Response:
    """The signed verification statement (Word). Who: whoever the verification is in reach of."""
    with mrv_errors():
        docx, _sig, _pem, _code = ver.statement_files(db, mrv_actor(p), verification_id)
    return _file(docx, DOCX, f"verification-{verification_id}.docx")


@router.get("/api/mrv/verifications/{verification_id}/statement.sig")
def signature_api(p: SignedIn, db: DB, verification_id: VerificationId) -> Response:
    """The statement's detached Ed25519 signature (64 raw bytes), for ``openssl pkeyutl -verify
    -rawin -sigfile``. Who: whoever the verification is in reach of."""
    with mrv_errors():
        _docx, sig, _pem, _code = ver.statement_files(db, mrv_actor(p), verification_id)
    return _file(sig, "application/octet-stream", f"verification-{verification_id}.sig")


@router.post("/api/mrv/verifications/{verification_id}/notify")
def notify_api(p: SignedIn, db: DB, verification_id: VerificationId) -> dict[str, Any]:
    """Tell the enterprise the concluded result; the appeal window (working days) starts today.
    Who: park officers."""
    with mrv_errors():
        ver.notify_result(db, mrv_actor(p), verification_id)
        return _act(db, p, verification_id)


@router.post("/api/mrv/verifications/{verification_id}/appeal")
def appeal_api(p: SignedIn, db: DB, verification_id: VerificationId, body: AppealIn) -> dict[str, Any]:
    """Appeal a notified result within the window. Who: the enterprise (or an officer for it)."""
    with mrv_errors():
        ver.file_appeal(db, mrv_actor(p), verification_id, grounds=body.grounds)
        return _act(db, p, verification_id)


@router.post("/api/mrv/verifications/{verification_id}/appeal/decision")
def decide_api(p: SignedIn, db: DB, verification_id: VerificationId, body: DecisionIn) -> dict[str, Any]:
    """Decide the appeal: upheld, or revised with the revised total. Who: park officers."""
    with mrv_errors():
        ver.decide_appeal(db, mrv_actor(p), verification_id, decision=body.decision, note=body.note,
                          revised_total_co2_t=body.revised_total_co2_t)  # fmt: skip
        return _act(db, p, verification_id)


@router.post("/api/mrv/verifications/{verification_id}/close")
def close_api(p: SignedIn, db: DB, verification_id: VerificationId) -> dict[str, Any]:
    """Close after the appeal window passed or the appeal was decided. Who: park officers."""
    with mrv_errors():
        ver.close(db, mrv_actor(p), verification_id)
        return _act(db, p, verification_id)


# --------------------------------------------------------------------------- the page


@router.get("/mrv/verification", response_class=HTMLResponse, include_in_schema=False)
def verification_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    """Verification: officers assign and follow, register bodies, notify and decide appeals;
    verifiers work through their assignments; enterprises answer non-conformities and appeal.
    Who: officers, a bureau, verifiers and enterprises (the menu)."""
    return render(request, "mrv_verification.html", p)

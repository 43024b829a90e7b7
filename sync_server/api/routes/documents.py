from __future__ import annotations

from fastapi import APIRouter, Response

from shared_billing.api_models import BlockPdfRequest, DownloadLink
from shared_billing.api_types import Id, Token
from sync_server.billing.documents import bill_pdf, block_pdf
from sync_server.deps import PUBLIC, ContextDep, NowDep, SessionDep, access
from sync_server.models import Bill, Role
from sync_server.problems import Problem

router = APIRouter(tags=["documents"])

BILL_READERS = (Role.ADMIN, Role.ACCOUNTANT)


@router.post("/bills/{bill_id}/pdf-link", **access(*BILL_READERS, errors=(404,)))
def bill_pdf_link(bill_id: Id, context: ContextDep, session: SessionDep, now: NowDep) -> DownloadLink:
    """A link (valid 10 minutes) to the bill's PDF, for a browser to open without the bearer header."""
    if session.get(Bill, bill_id) is None:
        raise Problem("bill.not_found", f"No bill {bill_id}")
    return DownloadLink(url=f"/api/downloads/{context.tokens.download_token(f'bill:{bill_id}', now)}")


@router.post("/billing/block-pdf-link", **access(*BILL_READERS))
def block_pdf_link(body: BlockPdfRequest, context: ContextDep, now: NowDep) -> DownloadLink:
    """A link (valid 10 minutes) to one PDF with every issued bill of a block for a period."""
    subject = f"block:{body.block_id}:{body.period}"
    return DownloadLink(url=f"/api/downloads/{context.tokens.download_token(subject, now)}")


@router.get(
    "/downloads/{token}",
    **access(
        PUBLIC,
        errors=(404, 409),
        responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}},
    ),
    response_class=Response,
)
def download(token: Token, context: ContextDep, session: SessionDep, now: NowDep) -> Response:
    """The document a signed link names; the link itself is the authorization (it expires)."""
    subject = context.tokens.read_download_token(token, now)
    if subject is None:
        raise Problem("download.invalid")
    kind, _, rest = subject.partition(":")
    settings = context.settings
    if kind == "bill":
        bill = session.get(Bill, int(rest))
        if bill is None:
            raise Problem("bill.not_found")
        data = bill_pdf(session, bill, settings, context.assets_dir)
        name = f"{(bill.bill_number or str(bill.id)).replace('/', '-')}.pdf"
    else:
        block_id, _, period = rest.partition(":")
        data = block_pdf(
            session, block_id=int(block_id), period=period, settings=settings, assets_dir=context.assets_dir
        )
        name = f"block-{block_id}-{period}.pdf"
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})

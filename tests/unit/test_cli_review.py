"""``amk access-review`` and ``amk access-reviews`` as a person reads them (not --json):
what people wrote is shown as written, never read as rich markup."""

from __future__ import annotations

from rich.console import Console

from amk.audit.v1 import audit_pb2 as apb
from clients.cli_review import _findings, _reviews


def shown(renderable) -> str:
    console = Console(record=True, width=400, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_a_reason_that_looks_like_markup_is_shown_as_written() -> None:
    review = apb.AccessReview(rows=12, users=3)
    for reason in ("[/]", "[black on black]hidden[/black on black]"):
        review.findings.add(
            kind="break-glass",
            user="ola",
            user_name="Ola [bold]",
            role="dispatcher",
            centre="oslo",
            records=2,
            detail="break-glass: 2 records opened",
            reason=reason,
        )
    text = shown(_findings(review))
    assert "12 records read by 3 people; 2 to look into" in text
    assert "«[/]»" in text and "«[black on black]hidden[/black on black]»" in text
    assert "Ola [bold] (ola)" in text


def test_the_list_says_when_the_next_review_is_due_and_shows_notes_as_written() -> None:
    none = apb.ListAccessReviewsResponse(overdue=True)
    assert "no review signed yet" in shown(_reviews(none)) and "OVERDUE" in shown(_reviews(none))
    done = apb.ListAccessReviewsResponse(overdue=False)
    done.reviews.add(id="r-1", reviewer="revisor", rows=40, findings=1, note="[red]ok[/red]")
    text = shown(_reviews(done))
    assert "[red]ok[/red]" in text and "OVERDUE" not in text

"""The readable HTML summary of a subject access package: what is held, why, from where, for whom, how long.

Self-contained (inline CSS, no scripts, no remote resources) so it opens from the unzipped folder on
any computer; every value is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from html import escape
from typing import Any

from tasks.subject_access.model import REDACTED, Category, Extract

HTML_ROW_LIMIT = 500
"""Rows shown per category in the HTML; every row is always in the CSV and data.json."""

LEGAL_BASES = {
    "consent": "Your consent (UK GDPR Article 6(1)(a))",
    "contract": "A contract with you, or steps you asked for before one (Article 6(1)(b))",
    "legal_obligation": "A legal obligation we have (Article 6(1)(c))",
    "vital_interests": "Someone's vital interests (Article 6(1)(d))",
    "public_task": "A task in the public interest (Article 6(1)(e))",
    "legitimate_interests": "Our legitimate interests, balanced against yours (Article 6(1)(f))",
}

KINDS_OF_DATA = {
    "identifier": "identifiers (account and record numbers)",
    "contact": "contact details",
    "identity": "identity (names)",
    "professional": "professional details",
    "demographic": "demographic details",
    "special_category": "special category data (UK GDPR Article 9)",
    "financial": "financial details",
    "content": "content you wrote or uploaded",
    "activity": "your activity with us",
    "preference": "your preferences and choices",
    "technical": "technical details",
}

ICO = {
    "name": "Information Commissioner's Office (ICO)",
    "web": "https://ico.org.uk/make-a-complaint/",
    "phone": "0303 123 1113",
    "post": "Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF",
}

RIGHTS = (
    ("Access", "to a copy of your personal data and the information in this summary (this request)."),
    ("Rectification", "to have inaccurate data corrected and incomplete data completed."),
    ("Erasure", "to have your data deleted where there is no longer a reason to keep it."),
    ("Restriction", "to have us stop using your data, other than storing it, while a concern is resolved."),
    (
        "Portability",
        "to receive the data you gave us in a machine-readable form (data.json in this package) and "
        "to have it sent to another organisation.",
    ),
    (
        "Objection",
        "to object to uses based on our legitimate interests, and at any time to direct marketing.",
    ),
    (
        "Withdrawing consent",
        "where we rely on your consent (marketing, research sharing, sharing with your employer), at "
        "any time, without affecting what was done before.",
    ),
    (
        "Automated decisions",
        "posts are checked automatically against keyword lists; a person reviews every post the filter "
        "holds, and you may ask for any decision to be reviewed and give your point of view.",
    ),
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:70rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.5}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f1f1}.note{background:#fff8e1;padding:.6rem 1rem;border-left:4px solid #f0b400}
.redacted{color:#8a0000;font-style:italic}.scroll{overflow-x:auto}
"""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    text = _text(value)
    if text == REDACTED:
        return f'<td class="redacted">{escape(text)}</td>'
    return f"<td>{escape(text)}</td>"


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def legal_basis_text(basis: str) -> str:
    return LEGAL_BASES.get(basis, basis)


def kinds_text(classifications: Iterable[str]) -> str:
    return ", ".join(KINDS_OF_DATA.get(c, c.replace("_", " ")) for c in classifications)


def _category_overview(categories: list[Category], csv_names: Mapping[str, str]) -> str:
    rows = [
        (
            category.title,
            category.count,
            kinds_text(category.classifications),
            category.purpose,
            legal_basis_text(category.legal_basis),
            category.source,
            "; ".join(category.recipients) or "nobody outside the charity",
            category.retention,
            csv_names.get(category.table, ""),
        )
        for category in categories
    ]
    headers = (
        "Category",
        "Records",
        "Kinds of data",
        "Why we hold it",
        "Legal basis",
        "Where it comes from",
        "Who it may be disclosed to",
        "How long we keep it",
        "File",
    )
    return _table(headers, rows)


def _category_detail(category: Category, csv_name: str) -> str:
    parts = [f"<h3>{escape(category.title)} ({category.count})</h3>"]
    if category.description:
        parts.append(f"<p>{escape(category.description)}</p>")
    shown = category.records[:HTML_ROW_LIMIT]
    parts.append(_table(category.columns, ([r.get(c) for c in category.columns] for r in shown)))
    if category.count > len(shown):
        parts.append(
            f"<p>The first {len(shown)} of {category.count} records are shown; all are in "
            f"<code>{escape(csv_name)}</code> and <code>data.json</code>.</p>"
        )
    if category.redactions:
        redacted = ", ".join(f"{escape(col)} ({n})" for col, n in sorted(category.redactions.items()))
        parts.append(f'<p class="redacted">Values withheld to protect other people: {redacted}.</p>')
    return "\n".join(parts)


def _disclosures(extract: Extract) -> str:
    if not extract.disclosures:
        return "<p>Our records show no disclosure of your data to another organisation.</p>"
    columns = list(extract.disclosures[0])
    return _table(columns, ([row.get(c) for c in columns] for row in extract.disclosures))


def _rights(controller: str, dpo_contact: str) -> str:
    items = "".join(f"<li><strong>{escape(name)}</strong>: {escape(text)}</li>" for name, text in RIGHTS)
    return (
        f"<p>You have these rights over your personal data. To use any of them, contact "
        f"{escape(controller)}'s Data Protection Officer: {escape(dpo_contact)}. It is free of charge.</p>"
        f"<ul>{items}</ul>"
        f"<h3>Complaining to the regulator</h3>"
        f"<p>If you are unhappy with how we have used your data or answered this request, you can "
        f"complain to the {escape(ICO['name'])}: online at "
        f'<a href="{escape(ICO["web"])}">{escape(ICO["web"])}</a>, by telephone on '
        f"{escape(ICO['phone'])}, or by post to {escape(ICO['post'])}. We would welcome the chance "
        f"to put things right first.</p>"
    )


def render_summary_html(
    extract: Extract, csv_names: Mapping[str, str], controller: str, dpo_contact: str
) -> bytes:
    """The summary page of the package, UTF-8 HTML."""
    held = [category for category in extract.categories if category.records]
    verified = extract.identity_verified_on.isoformat() if extract.identity_verified_on else "not recorded"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Your personal data: subject access request {extract.request_id}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Your personal data held by {escape(controller)}</h1>",
        _table(
            ("Request", "Received", "Identity confirmed", "Answer due by", "Prepared"),
            [
                (
                    extract.request_id,
                    extract.received_on,
                    verified,
                    extract.due_on,
                    extract.generated_at.date(),
                )
            ],
        ),
        "<h2>Do we hold personal data about you?</h2>",
    ]
    if not held:
        parts.append(
            "<p><strong>No.</strong> We searched every place where we keep personal data for the "
            "identifiers you gave us, and found no personal data about you, other than the record of "
            "this request, which we keep to show how and when we answered it. This package is our "
            "complete answer to your request.</p>"
        )
    else:
        total = sum(category.count for category in held)
        parts.append(
            f"<p><strong>Yes.</strong> We found {total} records about you in {len(held)} categories. "
            "Each category is described below (why we hold it, on which legal basis, where it came "
            "from, who it may be disclosed to, and how long we keep it), followed by a copy of the "
            "data. The same data is in <code>data.json</code> (machine-readable; you may give it to "
            "another organisation) and in one CSV file per category.</p>"
        )
        parts.append(_category_overview(held, csv_names))
    parts.append("<h3>Searched for</h3>")
    parts.append(
        _table(
            ("Identifier", "Value"),
            [("email address", email) for email in sorted(extract.identifiers.emails)]
            + [("account number", account) for account in sorted(extract.identifiers.account_ids)],
        )
    )
    parts.append("<h2>Who has received your data</h2>")
    parts.append(
        "<p>Each category above names the organisations it may be disclosed to (our processors, such "
        "as the email service, act only on our instructions). This is every disclosure to another "
        "organisation that our data-share log records for you:</p>"
    )
    parts.append(_disclosures(extract))
    if held:
        parts.append("<h2>A copy of your data</h2>")
        if any(category.redactions for category in held):
            parts.append(
                f'<p class="note">Where a record also identifies someone else (for example the '
                f"member who reported a post, or the member of staff who decided on it), their "
                f'identity is shown as <span class="redacted">{escape(REDACTED)}</span>: the law '
                f"protects their data too (Data Protection Act 2018, Schedule 2, paragraph 16). "
                f"Everything about you in those records is given.</p>"
            )
        for category in held:
            parts.append(_category_detail(category, csv_names.get(category.table, "")))
    if extract.reference:
        parts.append("<h2>Related information</h2>")
        parts.append(
            "<p>Details of things your records refer to (such as the courses you booked). They are "
            "not about you, and are given so that your records make sense.</p>"
        )
        for table, rows in extract.reference.items():
            title = extract.reference_titles.get(table, table)
            parts.append(f"<h3>{escape(title)}</h3>")
            columns = list(rows[0]) if rows else []
            parts.append(_table(columns, ([row.get(c) for c in columns] for row in rows)))
    parts.append("<h2>Your rights</h2>")
    parts.append(_rights(controller, dpo_contact))
    parts.append("<h2>The files in this package</h2>")
    files = [("summary.html", "this page"), ("data.json", "all of the data, machine-readable")]
    files += [(csv_names[category.table], category.title) for category in held if category.table in csv_names]
    files.append(("manifest.json", "the SHA-256 checksum of every file, to check nothing was altered"))
    parts.append(_table(("File", "What it holds"), files))
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")

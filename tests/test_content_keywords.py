"""Keyword list imports: versions with what was added and removed, a bad list rejected whole with every bad
line named (the version in force stays), allow-lists, diffs, and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from content_rows import write_list
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from steward.cli import _register_commands, app
from tasks.content.keywords import (
    KeywordListError,
    current_version,
    diff_versions,
    import_keyword_list,
    terms_in_version,
)
from tasks.schema import audit_log, keyword_lists, keyword_terms

_register_commands()
runner = CliRunner()

GOOD = ["scam,fraud,prefix,alert", "crypto giveaway,fraud,phrase,hold", "subhuman,hate,word,hold"]


def _import(engine: Engine, terms: Path, allow: Path | None = None) -> object:
    with engine.begin() as conn:
        return import_keyword_list(conn, terms, allow)


def test_each_change_is_a_new_version_recording_what_was_added_and_removed(
    engine: Engine, tmp_path: Path
) -> None:
    first = _import(engine, write_list(tmp_path / "v1.csv", GOOD))
    again = _import(engine, write_list(tmp_path / "same.csv", [line.upper() for line in GOOD]))
    second = _import(
        engine,
        write_list(
            tmp_path / "v2.csv",
            [GOOD[0], GOOD[2], "wire the fee,fraud,phrase,hold", "isis,terrorism,word,alert"],
        ),
    )
    assert (first.version, first.added, first.removed) == (1, 3, 0)  # type: ignore[attr-defined]
    assert (again.version, again.changed) == (1, False)  # type: ignore[attr-defined]  # case only: same terms
    assert (second.version, second.added, second.removed) == (2, 2, 1)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        versions = conn.execute(select(keyword_lists).order_by(keyword_lists.c.version)).all()
        assert [(v.version, v.term_count, v.added_count, v.removed_count) for v in versions] == [
            (1, 3, 3, 0),
            (2, 4, 2, 1),
        ]
        withdrawn = conn.execute(
            select(
                keyword_terms.c.term, keyword_terms.c.added_in_version, keyword_terms.c.removed_in_version
            ).where(keyword_terms.c.removed_in_version.is_not(None))
        ).all()
        assert [tuple(r) for r in withdrawn] == [("crypto giveaway", 1, 2)]
        assert {t.term for t in terms_in_version(conn, 1)} == {"scam", "crypto giveaway", "subhuman"}
        diff = diff_versions(conn, 1, 2)
        assert {t.term for t in diff.added} == {"wire the fee", "isis"}
        assert [t.term for t in diff.removed] == ["crypto giveaway"]
        events = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.event == "keyword_list_imported")
        )
        assert events.scalar_one() == 2


def test_a_bad_list_is_rejected_whole_with_every_bad_line_named(engine: Engine, tmp_path: Path) -> None:
    _import(engine, write_list(tmp_path / "good.csv", GOOD))
    bad = write_list(
        tmp_path / "bad.csv",
        [
            "scam,fraud,prefix,alert",  # 2: fine
            ",fraud,word,hold",  # 3: empty term
            "x" * 101 + ",fraud,word,hold",  # 4: over-long
            "SC4M,fraud,word,hold",  # 5: duplicate of line 2 once normalised
            "bad\x07term,hate,word,hold",  # 6: control character
            "ok term,hats,word,hold",  # 7: unknown category
            "other term,hate,whole,hold",  # 8: unknown match mode
            "third term,hate,word,block",  # 9: unknown action
            "fourth term,hate",  # 10: missing fields
            "zero\u200bwidth,hate,word,hold",  # 11: invisible character
            "new term,violence,word,hold",  # 12: fine
        ],
    )
    with pytest.raises(KeywordListError) as rejected:
        _import(engine, bad)
    message = str(rejected.value)
    for line, words in [
        (3, "term is empty"),
        (4, "term is 101 characters long (at most 100)"),
        (5, "term 'SC4M' duplicates line 2 (both read as 'scam')"),
        (6, "term contains a control character (U+0007)"),
        (7, "unknown category 'hats'"),
        (8, "unknown match mode 'whole'"),
        (9, "unknown action 'block'"),
        (10, "expected 4 fields, found 2"),
        (11, "term contains an invisible format character (U+200B)"),
    ]:
        assert f"bad.csv line {line}: {words}" in message, (line, message)
    assert "line 2:" not in message and "line 12:" not in message
    assert "version 1 stays in force" in message
    with engine.connect() as conn:
        assert current_version(conn) == 1
        assert conn.execute(select(func.count()).select_from(keyword_terms)).scalar_one() == 3


def test_wrong_encodings_and_headers_are_named(engine: Engine, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"term,category\ncaf\xe9 scam,fraud\nfine,fraud\nna\xefve,fraud\n")
    with pytest.raises(KeywordListError) as rejected:
        _import(engine, latin)
    assert "latin.csv line 2: not valid UTF-8 (byte 0xE9 at column 4)" in str(rejected.value)
    assert "latin.csv line 4: not valid UTF-8" in str(rejected.value)
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("term,category\nscam,fraud\n".encode("utf-16"))
    with pytest.raises(KeywordListError, match="UTF-16"):
        _import(engine, utf16)
    header = write_list(tmp_path / "header.csv", ["scam,fraud"], header="word,kind\n")
    with pytest.raises(KeywordListError, match=r"header.csv line 1: header: missing columns term, category"):
        _import(engine, header)
    empty = write_list(tmp_path / "empty.csv", [])
    with pytest.raises(KeywordListError, match="the list has no terms"):
        _import(engine, empty)
    with engine.connect() as conn:
        assert current_version(conn) is None


def test_allow_lists_are_kept_until_replaced(engine: Engine, tmp_path: Path) -> None:
    terms = write_list(tmp_path / "terms.csv", GOOD)
    allow = write_list(
        tmp_path / "allow.csv", ["Scamblesby,word", "River Isis,phrase"], header="term,match_mode\n"
    )
    _import(engine, terms, allow)
    _import(engine, write_list(tmp_path / "more.csv", [*GOOD, "isis,terrorism,word,alert"]))
    with engine.connect() as conn:
        allowed = {t.term for t in terms_in_version(conn) if t.is_allow}
    assert allowed == {"Scamblesby", "River Isis"}
    _import(engine, terms, write_list(tmp_path / "allow2.csv", ["Scamblesby"], header="term\n"))
    with engine.connect() as conn:
        assert {t.term for t in terms_in_version(conn) if t.is_allow} == {"Scamblesby"}
    clash = write_list(tmp_path / "clash.csv", ["scam"], header="term\n")
    with pytest.raises(
        KeywordListError, match=r"clash.csv line 2: 'scam' is also a term of terms.csv \(line 2\)"
    ):
        _import(engine, terms, clash)


def test_the_keywords_commands(sqlite_url: str, tmp_path: Path) -> None:
    good = write_list(tmp_path / "good.csv", GOOD)
    imported = runner.invoke(app, ["keywords", "import", str(good)])
    assert imported.exit_code == 0, imported.output
    assert "version 1 is now in force: 3 added, 0 removed" in imported.output
    dry = runner.invoke(
        app, ["keywords", "import", str(write_list(tmp_path / "v2.csv", GOOD[:2])), "--dry-run"]
    )
    assert "version 2 would become" in dry.output
    bad = runner.invoke(
        app, ["keywords", "import", str(write_list(tmp_path / "bad.csv", [",fraud,word,hold"]))]
    )
    assert bad.exit_code != 0
    assert "bad.csv line 2: term is empty" in bad.output + str(bad.exception)
    runner.invoke(app, ["keywords", "import", str(write_list(tmp_path / "v2.csv", GOOD[:2]))])
    diff = runner.invoke(app, ["keywords", "diff", "1", "2"])
    assert diff.exit_code == 0 and "subhuman" in diff.output
    show = runner.invoke(app, ["keywords", "show", "--terms"])
    assert show.exit_code == 0 and "crypto giveaway" in show.output and "2 (in force)" in show.output
    unknown = runner.invoke(app, ["keywords", "diff", "1", "9"])
    assert unknown.exit_code != 0

"""The subject access package: data.json, a CSV per category and an HTML summary, in an encrypted ZIP.

Layout of `<output_dir>/sar/<request id>/` (directory 0o700, every file 0o600):

- `sar-<id>.zip`: AES-256 encrypted (WinZip AE, pyzipper), holding `summary.html`, `data.json`,
  `csv/category-NN.csv` and `manifest.json` (the SHA-256 and size of every other file in the ZIP);
- `package.json`: beside the ZIP, without personal data: the ZIP's SHA-256 and size, and the SHA-256
  of the manifest inside it, so the DPO can check the file before sending it and the person can check
  the manifest after opening it.

The plain files are built in memory and written straight into the encrypted ZIP, so nothing readable
stays on disk; `keep_plain=True` (the DPO asked for it) also writes them under `plain/`, owner-only.
ZIP encryption covers file contents, not file names: the CSVs are therefore numbered rather than named
after their category (a name like `job_applications.csv` would itself say something about the person).
The password is generated here, returned once to the caller, and never written anywhere.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyzipper

from steward.errors import StewardError
from tasks.subject_access.model import Extract
from tasks.subject_access.summary import render_summary_html

PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
"""Letters and digits without the look-alikes (I, l, O, o, 0, 1): it is read out or typed by hand."""
PASSWORD_GROUPS = 5
PASSWORD_GROUP_LENGTH = 5
# 25 characters from 56: about 145 bits, far beyond guessing even against an offline attack on the ZIP.

DIR_MODE = 0o700
FILE_MODE = 0o600

# Spreadsheet programs run cells that start with these as formulas (CSV injection): other people's
# text (a report's details) must not be able to run anything on the person's computer.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class PackageError(StewardError):
    """A package that cannot be written, opened or verified."""


@dataclass(frozen=True)
class PackageResult:
    """Where the package is and how to check it: paths, sizes and checksums, no personal data."""

    directory: Path
    zip_path: Path
    sha256: str
    size_bytes: int
    files: dict[str, str]
    """File name inside the ZIP -> its SHA-256."""
    manifest_sha256: str
    plain_directory: Path | None = None


def generate_password() -> str:
    """A strong password from the OS's cryptographic generator, in groups of five for reading out."""
    groups = (
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_LENGTH))
        for _ in range(PASSWORD_GROUPS)
    )
    return "-".join(groups)


def announce_password(request_id: int, password: str) -> None:
    """Print the password once on standard output (never a logger), for the DPO to send separately."""
    sys.stdout.write(
        f"\nPassword of the subject access package for request {request_id} (shown once, not stored; "
        f"send it to the person separately from the package):\n    {password}\n\n"
    )
    sys.stdout.flush()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot write a {type(value).__name__} to data.json")


def csv_file_name(index: int) -> str:
    return f"csv/category-{index:02d}.csv"


def render_data_json(extract: Extract) -> bytes:
    """Everything held, machine-readable: the copy of the data and the portable format in one."""
    document = {
        "format": "steward subject access package, version 1",
        "request": {
            "id": extract.request_id,
            "received_on": extract.received_on,
            "identity_verified_on": extract.identity_verified_on,
            "due_on": extract.due_on,
            "generated_at": extract.generated_at,
            "identifiers_searched": {
                "emails": sorted(extract.identifiers.emails),
                "account_ids": sorted(extract.identifiers.account_ids),
            },
        },
        "data_held": extract.data_held,
        "categories": [
            {
                "table": category.table,
                "title": category.title,
                "description": category.description,
                "source": category.source,
                "purpose": category.purpose,
                "legal_basis": category.legal_basis,
                "recipients": category.recipients,
                "retention_rule": category.retention_rule,
                "retention": category.retention,
                "kinds_of_data": category.classifications,
                "csv_file": csv_file_name(index),
                "record_count": category.count,
                "redacted_values": category.redactions,
                "records": category.records,
            }
            for index, category in enumerate(extract.categories, start=1)
        ],
        "reference": {
            table: {"title": extract.reference_titles.get(table, table), "records": rows}
            for table, rows in extract.reference.items()
        },
        "disclosures": extract.disclosures,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=_json_default).encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def render_csv(columns: list[str], records: list[dict[str, Any]]) -> bytes:
    """One category as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_cell(record.get(column)) for column in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def package_files(extract: Extract, controller: str, dpo_contact: str) -> dict[str, bytes]:
    """The plain files of the package, in memory: summary, data.json, CSVs, and the manifest."""
    files: dict[str, bytes] = {}
    csv_names: dict[str, str] = {}
    for index, category in enumerate(extract.categories, start=1):
        name = csv_file_name(index)
        csv_names[category.table] = name
        files[name] = render_csv(category.columns, category.records)
    files["data.json"] = render_data_json(extract)
    files["summary.html"] = render_summary_html(extract, csv_names, controller, dpo_contact)
    files["manifest.json"] = render_manifest(extract.request_id, extract.generated_at, files)
    return files


def render_manifest(request_id: int, generated_at: datetime, files: Mapping[str, bytes]) -> bytes:
    manifest = {
        "request_id": request_id,
        "generated_at": generated_at.isoformat(),
        "algorithm": "sha256",
        "files": [
            {"name": name, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for name, content in sorted(files.items())
        ],
    }
    return json.dumps(manifest, indent=2).encode("utf-8")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask, and an old folder keeps its own


def _write_private(path: Path, content: bytes) -> None:
    """Write owner-only from the first byte (never readable by others, even for a moment), atomically."""
    partial = path.with_name(f".{path.name}.partial")
    if partial.exists():
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def encrypt_files(files: Mapping[str, bytes], password: str) -> bytes:
    """An AES-256 (WinZip AE) encrypted ZIP of the files."""
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode("utf-8"))
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def package_directory(output_dir: Path, request_id: int) -> Path:
    return output_dir / "sar" / str(request_id)


def write_package(
    extract: Extract,
    output_dir: Path,
    password: str,
    *,
    controller: str,
    dpo_contact: str,
    keep_plain: bool = False,
) -> PackageResult:
    """Write the encrypted package of `extract` under output_dir/sar/<request id>/.

    A rerun replaces the previous package of the same request atomically (a crash midway leaves the
    old ZIP or the new one, never half of one).
    """
    if len(password) < 16:
        raise PackageError("the package password must be at least 16 characters")
    _private_dir(output_dir / "sar")
    directory = package_directory(output_dir, extract.request_id)
    _private_dir(directory)
    files = package_files(extract, controller, dpo_contact)
    archive = encrypt_files(files, password)
    zip_path = directory / f"sar-{extract.request_id}.zip"
    _write_private(zip_path, archive)
    digest = hashlib.sha256(archive).hexdigest()
    manifest_sha256 = hashlib.sha256(files["manifest.json"]).hexdigest()
    beside = {
        "request_id": extract.request_id,
        "generated_at": extract.generated_at.isoformat(),
        "package": zip_path.name,
        "bytes": len(archive),
        "sha256": digest,
        "encryption": "AES-256 (WinZip AE); the password is sent separately",
        "files_inside": len(files),
        "manifest_inside_sha256": manifest_sha256,
    }
    _write_private(directory / "package.json", json.dumps(beside, indent=2).encode("utf-8"))
    plain_directory = None
    if keep_plain:
        plain_directory = directory / "plain"
        _private_dir(plain_directory)
        for name, content in files.items():
            target = plain_directory / name
            _private_dir(target.parent)
            _write_private(target, content)
    return PackageResult(
        directory=directory,
        zip_path=zip_path,
        sha256=digest,
        size_bytes=len(archive),
        files={name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
        manifest_sha256=manifest_sha256,
        plain_directory=plain_directory,
    )


def read_package(zip_path: Path, password: str) -> dict[str, bytes]:
    """Open the package with its password and return its files; PackageError on a wrong password."""
    try:
        with pyzipper.AESZipFile(zip_path) as archive:
            archive.setpassword(password.encode("utf-8"))
            return {info.filename: archive.read(info.filename) for info in archive.infolist()}
    except RuntimeError as error:
        raise PackageError(f"{zip_path.name}: the password does not open this package") from error
    except (OSError, pyzipper.BadZipFile) as error:
        raise PackageError(f"{zip_path.name}: not a readable package ({type(error).__name__})") from error


def verify_package(zip_path: Path, password: str) -> dict[str, str]:
    """Open the package and check every file against the manifest inside it; returns name -> sha256."""
    files = read_package(zip_path, password)
    if "manifest.json" not in files:
        raise PackageError(f"{zip_path.name}: no manifest.json inside")
    manifest = json.loads(files["manifest.json"])
    listed = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    actual = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    actual.pop("manifest.json")
    if listed != actual:
        missing = sorted(set(listed) - set(actual))
        extra = sorted(set(actual) - set(listed))
        changed = sorted(name for name in set(listed) & set(actual) if listed[name] != actual[name])
        raise PackageError(
            f"{zip_path.name}: does not match its manifest (missing {missing}, unlisted {extra}, "
            f"changed {changed})"
        )
    return actual

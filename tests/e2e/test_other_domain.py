"""Golden records are generic: a throwaway project whose person records use other column names,
other systems and other normalizers goes through ``dte run`` like the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import yaml

from dte_platform.demo import GeneratorConfig, generate
from tests.helpers import contract, source_dte
from tests.integration.test_golden import pairwise_f1

MEMBERS = {
    "customer_id": "member_no",
    "first_name": "given",
    "last_name": "family",
    "email": "mail",
    "phone": "tel",
    "birth_date": "born",
    "city": "town",
    "country": "land",
    "updated_at": "changed",
}
PATIENTS = {
    "account_id": "patient_ref",
    "full_name": "patient_name",
    "email": "contact_mail",
    "phone": "contact_tel",
    "city": "residence",
    "country": "nation",
    "signed_up_at": "admitted",
}


def rename_landing(source: Path, target: Path, mapping: dict[str, str], reader, suffix: str) -> None:
    target.mkdir(parents=True)
    for file in sorted(source.glob(f"*.{suffix}")):
        frame = reader(file).rename(lambda c: mapping.get(c, c))
        frame.write_csv(target / f"{file.stem}.csv")


def read_crm(file: Path) -> pl.DataFrame:
    rows = duckdb.sql(
        f"SELECT * FROM read_json('{file}', format='newline_delimited', ignore_errors=true, "
        "columns={'customer_id':'VARCHAR','first_name':'VARCHAR','last_name':'VARCHAR','email':'VARCHAR',"
        "'phone':'VARCHAR','birth_date':'VARCHAR','city':'VARCHAR','country':'VARCHAR','updated_at':'VARCHAR'})"
    )
    return rows.pl()


def read_shop(file: Path) -> pl.DataFrame:
    return duckdb.sql(f"SELECT * FROM read_csv('{file}', all_varchar=true, ignore_errors=true)").pl()


def text(name: str, **extra) -> dict:
    return {"name": name, "logicalType": "string", **extra}


def project(root: Path) -> Path:
    demo = root / "demo"
    generate(demo, GeneratorConfig())
    rename_landing(demo / "landing/crm/customers", root / "data/members", MEMBERS, read_crm, "jsonl")
    rename_landing(demo / "landing/shop/customers", root / "data/patients", PATIENTS, read_shop, "csv")
    members = contract(
        name="members",
        domain="club",
        properties=[
            text("member_no", primaryKey=True),
            text("given"),
            text("family"),
            text("mail"),
            text("tel"),
            {"name": "born", "logicalType": "date"},
            text("town"),
            text("land"),
            {"name": "changed", "logicalType": "timestamp"},
        ],
        dte=source_dte("data/members/{date}.csv"),
    )
    patients = contract(
        name="patients",
        domain="clinic",
        properties=[
            text("patient_ref", primaryKey=True),
            text("patient_name"),
            text("contact_mail"),
            text("contact_tel"),
            text("residence"),
            text("nation"),
            {"name": "admitted", "logicalType": "timestamp"},
        ],
        dte=source_dte("data/patients/{date}.csv"),
    )
    people = contract(
        name="people",
        domain="people",
        properties=[
            text("person_id", primaryKey=True),
            text("given_name"),
            text("surname"),
            text("mailbox"),
            text("telephone"),
            {"name": "dob", "logicalType": "date"},
            text("place"),
            text("iso_country"),
        ],
        dte={"risk": "high", "canonical": canonical()},
    )
    for path, document in {
        "sources/club/members.odcs.yaml": members,
        "sources/clinic/patients.odcs.yaml": patients,
        "golden/people.odcs.yaml": people,
    }.items():
        (root / "assets" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "assets" / path).write_text(yaml.safe_dump(document, sort_keys=False))
    return root


def canonical() -> dict:
    return {
        "inputs": [
            {
                "asset": "sources/club/members",
                "system": "club",
                "key": "member_no",
                "recency": "changed",
                "fields": {
                    "given_name": "given",
                    "surname": "family",
                    "mailbox": "mail",
                    "telephone": "tel",
                    "dob": "born",
                    "place": "town",
                    "iso_country": "land",
                },
            },
            {
                "asset": "sources/clinic/patients",
                "system": "clinic",
                "key": "patient_ref",
                "recency": "admitted",
                "fields": {
                    "given_name": {"column": "patient_name", "normalize": ["name_first"]},
                    "surname": {"column": "patient_name", "normalize": ["name_last"]},
                    "mailbox": "contact_mail",
                    "telephone": "contact_tel",
                    "place": "residence",
                    "iso_country": "nation",
                },
            },
        ],
        "normalize": {
            "given_name": ["unicode_fold", "lower", "trim"],
            "surname": ["unicode_fold", "lower", "trim"],
            "mailbox": ["email"],
            "telephone": ["phone_e164(iso_country)"],
            "place": ["unicode_fold", "lower", "trim", "city_exonyms"],
            "iso_country": ["upper", "trim"],
        },
        "blocking": [
            ["telephone"],
            ["mailbox"],
            ["mailbox__core", "place"],
            ["dob", "given_name"],
            ["dob", "surname"],
        ],
        "comparisons": {
            "given_name": {"type": "name"},
            "surname": {"type": "name"},
            "mailbox": {"type": "email"},
            "telephone": {"type": "exact", "prior": 0.002},
            "dob": {"type": "date"},
            "place": {"type": "location", "with": ["iso_country"]},
        },
        "threshold": 0.9999,
        "training": {
            "seed": 7,
            "deterministic": [["mailbox", "telephone"], ["telephone", "given_name", "surname"]],
            "em": [["dob"], ["telephone"]],
        },
        "survivorship": {"sourcePriority": ["club", "clinic"], "default": {"rule": "most_recent"}},
    }


def test_dte_run_builds_golden_records_for_other_column_names(tmp_path: Path) -> None:
    root = project(tmp_path / "project")
    result = subprocess.run(
        [sys.executable, "-m", "dte_platform.cli", "run", "--project", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert "golden/people" in result.stdout, result.stdout + result.stderr
    with duckdb.connect(str(root / "data/warehouse.duckdb"), read_only=True) as con:
        xref = con.sql("SELECT source_system, source_key, golden_id FROM golden.people__xref").pl()
        people = con.sql("SELECT count(*), count(DISTINCT person_id) FROM golden.people").fetchall()[0]
    truth = pl.read_csv(root / "demo/ground_truth/customer_entities.csv").with_columns(
        pl.col("source_system").replace({"crm": "club", "shop": "clinic"})
    )
    assert people[0] == people[1] == xref.get_column("golden_id").n_unique()
    assert pairwise_f1(xref.join(truth, on=["source_system", "source_key"])) >= 0.95

"""The evidence store on real files, the warehouse head in a real DuckDB file, and ``dte evidence verify``.

Each tampering test starts from an intact chain, does what an editor, a careless script or a forger
would do to the files, and expects the verifier to name it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dte_platform.cli import main
from dte_platform.evidence import (
    CERTIFICATES_TABLE,
    EvidenceReadError,
    EvidenceStore,
    EvidenceWriteError,
    InvalidAssetKey,
    Problem,
    WrittenPack,
    asset_dir_name,
    canonical_json,
    content_hash,
    render_html,
    warehouse_heads,
)

ORDERS = "sources/shop/orders"
CUSTOMERS = "golden/customers"


def content(day: int, certified: bool = True) -> dict[str, Any]:
    """Pack content shaped like the certification stage's, one per daily decision."""
    return {
        "decision": {
            "level": "gold" if certified else "silver",
            "required": "gold",
            "certified": certified,
            "status": "certified" if certified else "demoted",
            "reasons": [] if certified else ["gold: drift_within_bounds: drift failed on amount"],
            "issued": f"2026-11-{day:02d}T06:00:00+00:00",
            "expires": f"2026-11-{day + 1:02d}T06:00:00+00:00",
        },
        "contract": {"file": "assets/sources/shop/orders.odcs.yaml", "id": "shop-orders", "sha256": "4" * 64},
        "code_version": {"platform": "0.1.0", "asset": "5f1c2e"},
        "data": {"version": f"run-{day}", "fingerprint": f"sha256:{day:064x}"},
        "checks": [
            {
                "name": "contract__order_id_required",
                "severity": "ERROR",
                "passed": True,
                "partitions_failed": [],
            },
            {"name": "drift", "severity": "WARN", "passed": certified, "partitions_failed": []},
        ],
        "indicators": {"trust_score": 91.2 + day, "completeness_pct": {"order_id": 100.0}},
        "lineage": {"run_ids": [f"run-{day}"]},
        "upstream": [],
    }


def store_with(root: Path, asset: str = ORDERS, count: int = 3) -> tuple[EvidenceStore, list[WrittenPack]]:
    store = EvidenceStore(root)
    return store, [store.append(asset, content(day, certified=day % 2 == 1)) for day in range(1, count + 1)]


def messages(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


# -- writing and reading back -------------------------------------------------------------------


def test_three_packs_chain_and_verify(tmp_path: Path) -> None:
    store, written = store_with(tmp_path / "certification")
    folder = tmp_path / "certification" / "sources__shop__orders"
    assert [w.sequence for w in written] == [1, 2, 3]
    assert written[0].json_path == folder / "000001.json" and written[2].html_path == folder / "000003.html"
    packs = store.packs(ORDERS)
    assert [p["previous_hash"] for p in packs] == [None, written[0].hash, written[1].hash]
    assert [p["hash"] for p in packs] == [w.hash for w in written]
    for pack, w in zip(packs, written, strict=True):
        assert w.json_path.read_bytes() == canonical_json(pack)  # no trailing newline, no indentation
        assert w.html_path.read_text(encoding="utf-8") == render_html(pack)
        assert pack["hash"] == content_hash({k: v for k, v in pack.items() if k != "hash"})
    assert store.latest(ORDERS) == packs[-1]
    assert store.assets() == [ORDERS]
    assert store.verify() == [] and store.verify(ORDERS) == []


def test_assets_and_verify_cover_every_asset(tmp_path: Path) -> None:
    store, _ = store_with(tmp_path, ORDERS, 2)
    store.append(CUSTOMERS, content(1))
    assert store.assets() == [CUSTOMERS, ORDERS]
    assert store.latest("sources/shop/products") is None and store.packs("sources/shop/products") == []
    (tmp_path / "golden__customers" / "000001.json").write_bytes(b"{}")
    assert {p.asset for p in store.verify()} == {CUSTOMERS}


# -- tampering ----------------------------------------------------------------------------------


def test_an_edited_value_is_a_hash_mismatch(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    path = written[1].json_path
    path.write_bytes(path.read_bytes().replace(b'"certified":false', b'"certified":true', 1))
    problems = store.verify(ORDERS)
    assert [(p.file, "hash mismatch" in p.message) for p in problems] == [("000002.json", True)]


def test_every_flipped_byte_of_a_pack_is_detected(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    path = written[1].json_path
    original = path.read_bytes()
    undetected = []
    for index in range(len(original)):
        flipped = bytearray(original)
        flipped[index] ^= 0x01
        path.write_bytes(bytes(flipped))
        if not store.verify(ORDERS):
            undetected.append(index)
    path.write_bytes(original)
    assert undetected == []
    assert store.verify(ORDERS) == []


def test_a_reformatted_pack_is_not_canonical(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    written[0].json_path.write_bytes(canonical_json(store.packs(ORDERS)[0]) + b"\n")
    assert "not the canonical JSON" in messages(store.verify(ORDERS))


def test_an_edited_page_is_detected(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    page = written[0].html_path
    page.write_text(page.read_text(encoding="utf-8").replace("Certified", "Not certified"), encoding="utf-8")
    problems = store.verify(ORDERS)
    assert [(p.file, p.message.startswith("HTML page does not match")) for p in problems] == [
        ("000001.html", True)
    ]
    page.unlink()
    assert "HTML page missing" in messages(store.verify(ORDERS))


def test_a_deleted_middle_pack_is_a_gap(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    written[1].json_path.unlink()
    written[1].html_path.unlink()
    problems = store.verify(ORDERS)
    assert "missing 000002.json" in messages(problems)


def test_a_deleted_middle_record_with_its_page_left(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    written[1].json_path.unlink()
    found = messages(store.verify(ORDERS))
    assert "missing 000002.json" in found and "000002.html: HTML page without its record" in found


def test_swapped_packs_are_detected(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    for suffix in ("json", "html"):
        second, third = (w.json_path.with_suffix(f".{suffix}") for w in written[1:])
        second.rename(tmp_path / "swap")
        third.rename(second)
        (tmp_path / "swap").rename(third)
    found = messages(store.verify(ORDERS))
    assert "000002.json: the file name says pack 2 but the pack says 3" in found
    assert "chain broken" in found


def test_a_recomputed_hash_still_breaks_the_link_to_the_next_pack(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    forged = store.packs(ORDERS)[1]
    forged["decision"]["certified"] = True
    del forged["hash"]
    forged["hash"] = content_hash(forged)
    written[1].json_path.write_bytes(canonical_json(forged))
    written[1].html_path.write_text(render_html(forged), encoding="utf-8")
    problems = store.verify(ORDERS)
    assert [p.file for p in problems] == ["000003.json"] and "chain broken" in problems[0].message


def test_a_pack_copied_into_another_assets_folder(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    store.append(CUSTOMERS, content(1))
    target = tmp_path / "golden__customers"
    for w in written[:2]:
        for path in (w.json_path, w.html_path):
            (target / path.name).write_bytes(path.read_bytes())
    assert "is for asset 'sources/shop/orders', not 'golden/customers'" in messages(store.verify(CUSTOMERS))


def test_stray_files_are_reported(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    (written[0].json_path.parent / "notes.txt").write_text("x", encoding="utf-8")
    (written[0].json_path.parent / "000004.JSON").write_text("{}", encoding="utf-8")
    (tmp_path / "README").write_text("x", encoding="utf-8")
    found = messages(store.verify())
    assert "notes.txt: stray file" in found and "000004.JSON: stray file" in found
    assert "(store): README: stray entry" in found


# -- the head anchored in the warehouse ---------------------------------------------------------


def certificates(warehouse: Path, rows: list[tuple[str, str, str, int]]) -> None:
    """A ``trust.certificates`` table as certification writes it: asset, evidence hash, issued,
    evidence sequence."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS trust").fetchall()
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {CERTIFICATES_TABLE} "
            "(asset VARCHAR, level VARCHAR, evidence_hash VARCHAR, issued TIMESTAMPTZ, "
            "evidence_sequence BIGINT)"
        ).fetchall()
        for asset, evidence_hash, issued, sequence in rows:
            conn.execute(
                f"INSERT INTO {CERTIFICATES_TABLE} VALUES (?, 'gold', ?, ?, ?)",
                [asset, evidence_hash, issued, sequence],
            ).fetchall()


def test_a_deleted_last_pack_is_caught_only_by_the_warehouse_head(tmp_path: Path) -> None:
    store, written = store_with(tmp_path / "certification")
    warehouse = tmp_path / "warehouse.duckdb"
    certificates(
        warehouse, [(ORDERS, w.hash, f"2026-11-0{w.sequence} 06:00:00+00", w.sequence) for w in written]
    )
    heads = warehouse_heads(warehouse)
    assert heads == {ORDERS: written[2].hash}
    assert store.verify(heads=heads) == []
    written[2].json_path.unlink()
    written[2].html_path.unlink()
    # the shorter chain is intact on its own: that is why the head is anchored in the warehouse
    assert store.verify() == []
    problems = store.verify(heads=heads)
    assert [p.asset for p in problems] == [ORDERS]
    assert "no pack here has: the latest pack was deleted or replaced" in problems[0].message
    assert store.verify(ORDERS, heads) == problems


def test_a_forged_pack_appended_is_caught_by_the_warehouse_head(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    heads = {ORDERS: written[2].hash}
    forged = store.append(ORDERS, content(9, certified=True))  # well-formed, correctly chained
    assert store.verify() == []
    found = messages(store.verify(heads=heads))
    assert "points at pack 000003, but the chain goes on to 000004" in found
    assert store.verify(heads={ORDERS: forged.hash}) == []


def test_an_asset_in_the_warehouse_without_packs(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    heads = {ORDERS: written[2].hash, CUSTOMERS: "sha256:" + "1" * 64, "../etc": "sha256:" + "2" * 64}
    found = messages(store.verify(heads=heads))
    assert (
        "golden/customers: the warehouse records sha256:1111" in found and "but there are no packs" in found
    )
    assert "../etc: the warehouse names an asset no folder can hold" in found


def test_heads_take_the_latest_evidence_sequence_whatever_the_issue_time(tmp_path: Path) -> None:
    """The platform's clock can be set back (DTE_AS_OF): a later pack may carry an earlier issue time."""
    warehouse = tmp_path / "warehouse.duckdb"
    a, b, c = ("sha256:" + d * 64 for d in "abc")
    certificates(
        warehouse,
        [
            (ORDERS, a, "2026-11-09 06:00:00+00", 1),
            (ORDERS, c, "2026-11-03 06:00:00+00", 2),
            (CUSTOMERS, a, "2026-11-02 06:00:00+00", 1),
            (CUSTOMERS, b, "2026-11-02 06:00:00+00", 2),
        ],
    )
    assert warehouse_heads(warehouse) == {ORDERS: c, CUSTOMERS: b}


# -- crashes and errors -------------------------------------------------------------------------


def test_an_interrupted_append_is_an_incomplete_write_and_the_next_append_recovers(tmp_path: Path) -> None:
    store, written = store_with(tmp_path)
    folder = written[0].json_path.parent
    (folder / ".000004.html.k2j3h4.tmp").write_bytes(b"<!DOCTYPE html><html><bo")
    (folder / "000004.html").write_text("<html>half an append</html>", encoding="utf-8")
    found = store.verify(ORDERS)
    assert len(found) == 2 and all(p.message.startswith("incomplete write") for p in found), found
    assert not any("hash" in p.message or "does not match" in p.message for p in found)
    fourth = store.append(ORDERS, content(4))
    assert fourth.sequence == 4 and fourth.html_path.read_text(encoding="utf-8") == render_html(
        store.packs(ORDERS)[3]
    )
    assert store.verify(ORDERS) == []
    assert sorted(p.name for p in folder.iterdir()) == [".lock"] + [
        f"00000{i}.{s}" for i in range(1, 5) for s in ("html", "json")
    ]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-20],  # truncated: does not parse
        lambda data: data.replace(b'"certified":true', b'"certified":false', 1),  # parses, hash mismatch
    ],
)
def test_append_refuses_to_chain_onto_a_damaged_pack(tmp_path: Path, damage: Any) -> None:
    store, written = store_with(tmp_path)
    written[2].json_path.write_bytes(damage(written[2].json_path.read_bytes()))
    with pytest.raises(EvidenceReadError, match=r"000003\.json: the latest pack is not intact"):
        store.append(ORDERS, content(4))
    assert not (written[2].json_path.parent / "000004.json").exists()


def test_a_file_where_the_asset_folder_should_be(tmp_path: Path) -> None:
    (tmp_path / "sources__shop__orders").write_text("not a folder", encoding="utf-8")
    with pytest.raises(EvidenceWriteError, match="sources__shop__orders") as caught:
        EvidenceStore(tmp_path).append(ORDERS, content(1))
    assert "File exists" in str(caught.value)
    assert "is a file, not the asset's evidence folder" in messages(EvidenceStore(tmp_path).verify(ORDERS))


def test_a_file_where_the_store_root_should_be(tmp_path: Path) -> None:
    (tmp_path / "artifacts").write_text("", encoding="utf-8")
    with pytest.raises(EvidenceWriteError, match="cannot write evidence for sources/shop/orders"):
        EvidenceStore(tmp_path / "artifacts" / "certification").append(ORDERS, content(1))


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_folder(tmp_path: Path) -> None:
    store, written = store_with(tmp_path, count=1)
    folder = written[0].json_path.parent
    folder.chmod(0o555)
    try:
        with pytest.raises(EvidenceWriteError, match=f"{folder}.*Permission denied"):
            store.append(ORDERS, content(2))
    finally:
        folder.chmod(0o755)
    assert store.verify(ORDERS) == []


@pytest.mark.parametrize(
    "asset",
    ["../outside", "sources/../../outside", "/etc/passwd", "sources//orders", "sources/", "a\\..\\b",
     "..", "sources/shop/.", "a__b/c", "a/_b", "a_/b", "", "sources/shop/orders\x00"],
)  # fmt: skip
def test_asset_keys_that_could_escape_or_collide_are_rejected(tmp_path: Path, asset: str) -> None:
    root = tmp_path / "store"
    with pytest.raises(InvalidAssetKey):
        asset_dir_name(asset)
    with pytest.raises(InvalidAssetKey):
        EvidenceStore(root).append(asset, content(1))
    with pytest.raises(InvalidAssetKey):
        EvidenceStore(root).verify(asset)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_asset_dir_names() -> None:
    assert asset_dir_name(ORDERS) == "sources__shop__orders"
    assert asset_dir_name("marts/sales/daily_revenue") == "marts__sales__daily_revenue"
    assert asset_dir_name("x/v1.2-beta") == "x__v1.2-beta"


def test_concurrent_appends_from_two_processes_keep_one_chain(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from dte_platform.evidence import EvidenceStore
        store = EvidenceStore(Path({str(tmp_path)!r}))
        for i in range(15):
            store.append({ORDERS!r}, {{"writer": sys.argv[1], "i": i}})
        """
    )
    writers = [subprocess.Popen([sys.executable, "-c", script, name]) for name in ("a", "b")]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    store = EvidenceStore(tmp_path)
    assert store.verify() == []
    assert [p["sequence"] for p in store.packs(ORDERS)] == list(range(1, 31))


# -- dte evidence verify ------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DTE_PROJECT_DIR", "DTE_WAREHOUSE", "DTE_ARTIFACTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "project"


def verify_cli(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["evidence", "verify", *args, "--project", str(project)])
    return code, capsys.readouterr().out


def test_cli_verifies_against_the_warehouse_head(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, written = store_with(project / "artifacts" / "certification")
    store_with(project / "artifacts" / "certification", CUSTOMERS, 1)
    certificates(
        project / "data" / "warehouse.duckdb", [(ORDERS, written[2].hash, "2026-11-03 06:00:00+00", 3)]
    )
    code, out = verify_cli(project, capsys)
    assert code == 0, out
    assert f"✓ {ORDERS}: 3 packs, head {written[2].hash[:19]}…" in out
    assert f"✓ {CUSTOMERS}: 1 packs" in out and "note:" not in out
    written[2].json_path.unlink()
    written[2].html_path.unlink()
    code, out = verify_cli(project, capsys)
    assert code == 1 and f"✗ {ORDERS}: 1 problem(s)" in out and "latest pack was deleted" in out
    assert f"✓ {CUSTOMERS}" in out
    code, out = verify_cli(project, capsys, CUSTOMERS)
    assert code == 0 and ORDERS not in out


def test_cli_without_a_readable_warehouse_says_the_head_was_not_checked(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, written = store_with(project / "artifacts" / "certification")
    code, out = verify_cli(project, capsys)
    assert code == 0 and "note: chain heads not cross-checked" in out and "no warehouse at" in out
    warehouse = project / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE TABLE t (x INT)").fetchall()
    code, out = verify_cli(project, capsys)
    assert code == 0 and f"has no table {CERTIFICATES_TABLE}" in out
    written[0].html_path.write_text("edited", encoding="utf-8")
    code, out = verify_cli(project, capsys)
    assert code == 1 and "000001.html: HTML page does not match its pack" in out


def test_cli_while_a_run_holds_the_warehouse(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_with(project / "artifacts" / "certification")
    warehouse = project / "data" / "warehouse.duckdb"
    certificates(warehouse, [(ORDERS, "sha256:" + "0" * 64, "2026-11-03 06:00:00+00", 1)])
    hold = f"import duckdb, sys\nc = duckdb.connect({str(warehouse)!r})\nprint('ok', flush=True)\n"
    hold += "sys.stdin.read()"  # holds the write lock until the test closes its stdin
    holder = subprocess.Popen(
        [sys.executable, "-c", hold],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        code, out = verify_cli(project, capsys)
    finally:
        holder.communicate("", timeout=30)
    # the wrong head is not seen while the writer holds the file; the chain itself is still verified
    assert code == 0 and "cannot open" in out and "read-only" in out and f"✓ {ORDERS}: 3 packs" in out
    code, out = verify_cli(project, capsys)
    assert code == 1 and "no pack here has" in out


def test_cli_exit_codes_without_packs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify_cli(project, capsys)
    assert code == 2 and "no evidence packs in" in out
    store_with(project / "artifacts" / "certification")
    code, out = verify_cli(project, capsys, CUSTOMERS)
    assert code == 2 and f"no evidence packs for {CUSTOMERS}" in out
    code, out = verify_cli(project, capsys, "../../etc")
    assert code == 2 and "not allowed" in out
    certificates(
        project / "data" / "warehouse.duckdb",
        [(CUSTOMERS, "sha256:" + "1" * 64, "2026-11-03 06:00:00+00", 1)],
    )
    code, out = verify_cli(project, capsys, CUSTOMERS)
    assert code == 1 and "but there are no packs" in out


# -- pack formats: RFC 8785 for new packs, the earlier form still verified -----------------------


def _write_v1_pack(store: EvidenceStore, asset: str, sequence: int, previous: str | None) -> dict[str, Any]:
    """A pack exactly as the v1 format wrote it: its canonical form and its page."""
    import json

    from dte_platform.evidence import page_v1
    from dte_platform.evidence.pack import SCHEMA_V1

    body = {"schema": SCHEMA_V1, "asset": asset, "sequence": sequence, "previous_hash": previous}
    body.update(content(sequence))
    body["indicators"]["big"] = 2**60  # the v1 form wrote any integer as Python prints it
    body = json.loads(canonical_json(body))  # sealing kept the canonical key order
    pack = {**body, "hash": content_hash(body)}
    folder = store.folder(asset)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sequence:06d}.json").write_bytes(canonical_json(pack))
    (folder / f"{sequence:06d}.html").write_text(page_v1.render_html(pack), encoding="utf-8")
    return pack


def test_new_packs_are_rfc8785_bytes_that_any_jcs_implementation_reproduces(tmp_path: Path) -> None:
    import hashlib
    import json

    import rfc8785

    store = EvidenceStore(tmp_path)
    written = store.append(ORDERS, {**content(1), "indicators": {"ratio": 1e21, "tiny": 1e-7, "pi": 0.1}})
    raw = written.json_path.read_bytes()
    pack = json.loads(raw)
    assert pack["schema"] == "dte.evidence/v2"
    without_hash = {k: v for k, v in pack.items() if k != "hash"}
    assert raw == rfc8785.dumps(pack)
    assert pack["hash"] == "sha256:" + hashlib.sha256(rfc8785.dumps(without_hash)).hexdigest()
    assert b'"ratio":1e+21' in raw and b'"tiny":1e-7' in raw  # ECMAScript number form, not Python's


def test_integers_beyond_the_exact_json_range_are_refused_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\$\.data\.rows"):
        EvidenceStore(tmp_path).append(ORDERS, {**content(1), "data": {"rows": 2**60}})


def test_v1_packs_still_verify_and_a_v2_pack_continues_their_chain(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    first = _write_v1_pack(store, ORDERS, 1, None)
    second = _write_v1_pack(store, ORDERS, 2, first["hash"])
    assert store.verify(ORDERS) == []
    third = store.append(ORDERS, content(3))
    packs = store.packs(ORDERS)
    assert [p["schema"] for p in packs] == ["dte.evidence/v1", "dte.evidence/v1", "dte.evidence/v2"]
    assert packs[2]["previous_hash"] == second["hash"] and packs[2]["hash"] == third.hash
    assert store.verify(ORDERS) == []
    # an edit to a v1 pack is still caught, in the v1 form
    path = store.folder(ORDERS) / "000001.json"
    path.write_bytes(path.read_bytes().replace(b'"gold"', b'"GOLD"', 1))
    assert "hash mismatch" in messages(store.verify(ORDERS))

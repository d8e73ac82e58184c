"""Bad paths and bad database files give one line on stderr and exit status 1, not a Python
traceback (found by trying every command with hostile input)."""

from __future__ import annotations

from pathlib import Path

from segmentation import cli


def test_an_output_path_under_a_file_is_one_line(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code = cli.main(["generate", "--customers", "10", "--out", str(blocker / "raw")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: Not a directory:") and str(blocker) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_file_that_is_not_a_duckdb_database_is_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "w.duckdb"
    bad.write_text("not a database\n", encoding="utf-8")
    for argv in (
        ["evaluate", "--db", str(bad)],
        ["export", "audiences", "--db", str(bad), "--segment", "1", "--out", str(tmp_path / "a")],
    ):
        code = cli.main(argv)
        err = capsys.readouterr().err
        assert code == 1, argv
        assert err.startswith("error: DuckDB could not use the database:"), err
        assert "not a valid DuckDB database file" in err and "Traceback" not in err


def test_out_of_range_numbers_are_refused(capsys) -> None:
    for argv, message in (
        (["generate", "--daily", "-1"], "must be 0 (no daily batches) or more: -1"),
        (["check", "--error-share", "2"], "a share from 0 to 1: 2"),
        (["check", "--error-share", "nan"], "a share from 0 to 1: nan"),
    ):
        try:
            cli.main(argv)
        except SystemExit as exc:
            assert exc.code == 2, argv
        else:
            raise AssertionError(f"{argv} was accepted")
        assert message in capsys.readouterr().err


def test_compare_with_nothing_to_compare_is_not_equal(tmp_path: Path, capsys) -> None:
    import duckdb

    from segmentation import compare

    for name in ("a", "b"):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            con.execute("create schema marts; create table marts.t as select 1 as x")
    a, b = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb")
    assert compare.main([a, b]) == 0
    assert capsys.readouterr().out.strip() == "equal"
    assert compare.main([a, b, "--schema", "nosuch"]) == 2  # it printed "equal"
    assert "no table in schema 'nosuch'" in capsys.readouterr().err
    assert compare.main([a, str(tmp_path / "missing.duckdb")]) == 2
    assert "no DuckDB file at" in capsys.readouterr().err


def test_check_on_a_file_says_it_is_not_a_folder(tmp_path: Path, capsys) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_id\n1\n", encoding="utf-8")
    assert cli.main(["check", str(path)]) == 1
    assert "the raw folder is a file, not a folder" in capsys.readouterr().out

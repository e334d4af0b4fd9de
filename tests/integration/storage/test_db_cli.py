"""``libra db verify`` on a real store: success, bad arguments, damage."""

from __future__ import annotations

import random

from click.testing import CliRunner

from libra.cli.main import cli
from libra.storage import schema
from libra.storage.kv import RocksStore, WriteBatch
from libra.storage.libradb import LibraDB
from libra.storage.testing import ChainBuilder, Validators


def make_store(path):
    rng = random.Random(3)
    chain = ChainBuilder(rng, Validators.generate(4, rng))
    db = LibraDB.open(path)
    for i in range(6):
        chain.commit(db, 7, end_epoch=i == 2)
    db.close()


def test_verify_ok_and_errors(tmp_path):
    make_store(tmp_path / "db")
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "verify", "--data", str(tmp_path / "db")])
    assert result.exit_code == 0, result.output
    assert "version 41 root" in result.output and "version 20 root" in result.output
    result = runner.invoke(cli, ["db", "verify", "--data", str(tmp_path / "db"), "--sample", "5", "--version", "30"])
    assert result.exit_code == 0, result.output
    for args in (["--data", str(tmp_path / "nope")], ["--data", str(tmp_path / "db"), "--sample", "0"],
                 ["--data", str(tmp_path / "db"), "--version", "999"], []):
        result = runner.invoke(cli, ["db", "verify", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_verify_reports_first_mismatch(tmp_path):
    make_store(tmp_path / "db")
    store = RocksStore(tmp_path / "db")
    batch = WriteBatch()
    info = bytearray(store.get(schema.version_key(schema.TRANSACTION_INFO, 10)))
    info[-3] ^= 1  # gas used
    batch.put(schema.version_key(schema.TRANSACTION_INFO, 10), bytes(info))
    store.write(batch)
    store.close()
    result = CliRunner().invoke(cli, ["db", "verify", "--data", str(tmp_path / "db")])
    assert result.exit_code == 1
    assert "MISMATCH" in result.output and "version 20" in result.output

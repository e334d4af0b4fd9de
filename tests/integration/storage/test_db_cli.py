"""``libra db verify`` on a real store: success, bad arguments, damage."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from click.testing import CliRunner

from libra.cli.main import cli
from libra.storage import schema
from libra.storage.errors import StorageError
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


# --- which folder: a node's folder, its db/ folder, or a sentence naming the expected one ---------


def test_verify_accepts_a_node_folder(tmp_path):
    """The ``data_dir`` that localnet.json lists is the node's folder; its store is ``db/``."""
    make_store(tmp_path / "validator-0" / "db")
    result = CliRunner().invoke(cli, ["db", "verify", "--data", str(tmp_path / "validator-0")])
    assert result.exit_code == 0, result.output
    assert "version 41 root" in result.output
    assert str(tmp_path / "validator-0" / "db") in result.output  # says which store it checked


def test_verify_of_a_folder_without_a_store_names_the_expected_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["db", "verify", "--data", str(tmp_path / "empty")])
    assert result.exit_code == 2, result.output
    assert "does not exist (create_if_missing" not in result.output  # no raw RocksDB text
    assert "no ledger store" in result.output
    assert str(tmp_path / "empty" / "db") in result.output
    assert "data_dir" in result.output  # where to find the right folder


def test_verify_of_a_localnet_folder_names_its_nodes(tmp_path):
    net = tmp_path / "net"
    make_store(net / "validator-0" / "db")
    make_store(net / "full-node-0" / "db")
    (net / "localnet.json").write_text("{}")
    result = CliRunner().invoke(cli, ["db", "verify", "--data", str(net)])
    assert result.exit_code == 2, result.output
    assert "a localnet's folder" in result.output
    assert str(net / "full-node-0") in result.output and str(net / "validator-0") in result.output


def test_verify_of_a_store_a_running_node_holds_says_so(tmp_path):
    make_store(tmp_path / "node" / "db")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from libra.storage.libradb import LibraDB; "
         "db = LibraDB.open(sys.argv[1]); print('open', flush=True); time.sleep(60)",
         str(tmp_path / "node" / "db")],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        result = CliRunner().invoke(cli, ["db", "verify", "--data", str(tmp_path / "node")])
    finally:
        holder.kill()
        holder.communicate()
    assert result.exit_code == 1, result.output
    assert "in use by another process" in result.output and "stop the node" in result.output
    assert "Resource temporarily unavailable" not in result.output and "LOCK" not in result.output


def test_a_store_opened_twice_in_one_process_says_it_is_in_use(tmp_path):
    db = LibraDB.open(tmp_path / "db")
    try:
        with pytest.raises(StorageError, match="already open in this process") as caught:
            LibraDB.open(tmp_path / "db")
        assert "LOCK" not in str(caught.value)
    finally:
        db.close()


def test_opening_a_missing_store_without_create_names_the_folder(tmp_path):
    with pytest.raises(StorageError, match=f"no ledger store in {tmp_path}") as caught:
        RocksStore(tmp_path, create=False)
    assert "create_if_missing" not in str(caught.value)

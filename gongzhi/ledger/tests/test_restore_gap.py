"""A restored database must never quietly fork the public log (decision 0011): after a backup, more entries are
sequenced and so published; restoring the backup reports the gap loudly and exits 1, the sequencer then refuses to
sign (new steps wait in its queue), and the entries brought back from a mirror's `ledger export` make the log
whole again: it verifies, contains the published checkpoint, and sequencing resumes after it. Real processes, a
real SQLite file or a database on the suite's PostgreSQL server (real pg_dump), a var/ of its own."""

import json

from gongzhi.core.tests.backupkit import installation

HEAD = "SELECT size FROM ledger_loghead WHERE id = 1"
PENDING = "SELECT count(*) FROM ledger_pending"


def test_a_restore_behind_the_published_log_is_held_until_the_missing_entries_come_back_from_an_export(tmp_path):
    with installation(tmp_path, "gongzhi_gap") as site:
        site.write(4, "early", "sequence")
        site.gongzhi("backup", str(tmp_path / "site.backup"))
        site.write(3, "later", "sequence")  # signed, so served at /ledger/checkpoint: published
        site.gongzhi("ledger", "export", str(tmp_path / "mirror.jsonl"))  # what a mirror or witness keeps
        published = json.loads((site.var / "ledger" / "published-checkpoint").read_text())
        assert published["size"] == 7

        restored = site.gongzhi("restore", str(tmp_path / "site.backup"), "--yes", expect=1)
        assert "LEDGER GAP" in restored.stdout
        assert "3 published entries (indexes 4 to 6) are missing" in restored.stdout
        assert "checks above FAILED" in restored.stderr
        assert site.scalar(HEAD) == 4
        assert json.loads((site.var / "ledger" / "published-checkpoint").read_text()) == published  # not overwritten

        site.write(1, "meanwhile")  # the office keeps working: the step waits in the queue
        held = site.gongzhi("ledger", "sequence", "--once", expect=1)
        assert "ledger held" in held.stderr and "indexes 4 to 6" in held.stderr
        assert (site.scalar(HEAD), site.scalar(PENDING)) == (4, 1)

        recovered = site.gongzhi("ledger", "recover", "--export", str(tmp_path / "mirror.jsonl"))
        assert "recovered entries 4 to 6 (3 entries" in recovered.stdout
        site.gongzhi("ledger", "sequence", "--once")  # the waiting step and the recovery's own event
        assert (site.scalar(HEAD), site.scalar(PENDING)) == (9, 0)

        # An auditor who saw the published checkpoint finds the grown log consistent with it, every entry checked.
        vkey = (site.var / "ledger" / "signing.vkey").read_text().strip()
        auditor = tmp_path / "auditor.json"
        auditor.write_text(json.dumps({"logs": {vkey.split("+")[0]: {
            "source": "db", "vkey": vkey, "size": published["size"], "root": published["root"]}}}))
        verified = site.gongzhi("ledger", "verify", "--db", "--state", str(auditor))
        assert "OK" in verified.stdout and "3 recovered entries" in verified.stdout
        assert "consistent with the checkpoint of size 7" in verified.stdout

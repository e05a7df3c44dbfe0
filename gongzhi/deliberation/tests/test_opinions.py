"""The opinion map (gongzhi.deliberation.opinions) as a specification: planted opinion groups come back,
planted consensus and representative statements are found, who is clustered follows Polis's threshold,
the number of groups changes only after several updates agree, excluded statements play no part, an update
from the previous state keeps the groups, the next statement is never one already voted on or excluded,
the sparse PCA equals the dense one, and Polis export files are read (or refused) clearly. Synthetic data
only; `planted_votes` is also the generator of bench/bench_opinions.py."""

import csv
import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.metrics import adjusted_rand_score

from gongzhi.deliberation import opinions
from gongzhi.deliberation.opinions import AGREE, DISAGREE, PASS, MapState, compute_map, next_statement


def planted_votes(n_participants: int, n_statements: int, n_votes: int, *, groups: int = 3,
                  consensus: int = 0, seed: int = 0, faithful: float = 0.8, group_of=None):
    """Votes of participants from ``groups`` planted opinion groups (sizes 45/35/20 % for three). The first
    ``consensus`` statements are agreed by every group; every other statement j is "owned" by group
    (j − consensus) mod groups, which agrees with it while the others disagree. A vote follows the stance
    with probability ``faithful``, else it is a pass or the opposite (half each). Votes per participant
    are lognormal around n_votes / n_participants (at least 1); statements drawn uniformly, the last draw of
    a repeated pair standing. Returns (participant, statement, vote) int arrays and each participant's group."""
    rng = np.random.default_rng(seed)
    if group_of is None:
        sizes = {2: [0.6, 0.4], 3: [0.45, 0.35, 0.2]}.get(groups, [1 / groups] * groups)
        group_of = rng.choice(groups, n_participants, p=sizes)
    group_of = np.asarray(group_of)
    owner = np.full(n_statements, -1)
    owner[consensus:] = np.arange(n_statements - consensus) % groups
    per = rng.lognormal(0.0, 0.6, n_participants)
    per = np.clip(np.round(per / per.sum() * n_votes), 1, n_statements).astype(np.int64)
    participant = np.repeat(np.arange(n_participants), per)
    statement = rng.integers(0, n_statements, len(participant))
    stance = np.where(owner[statement] < 0, AGREE,
                      np.where(owner[statement] == group_of[participant], AGREE, DISAGREE))
    draw = rng.random(len(participant))
    vote = np.where(draw < faithful, stance, np.where(draw < (1 + faithful) / 2, PASS, -stance))
    return participant, statement, vote, group_of


def as_votes(participant, statement, vote) -> list[tuple[int, int, int]]:
    return list(zip(participant.tolist(), statement.tolist(), vote.tolist()))


def ari(truth, opinion_map) -> float:
    ids = list(opinion_map.groups)
    return adjusted_rand_score([int(truth[p]) for p in ids], [opinion_map.groups[p] for p in ids])


def owner_of(statement: int, *, groups: int, consensus: int = 0) -> int:
    return -1 if statement < consensus else (statement - consensus) % groups


# --- groups ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_three_planted_groups_come_back_as_three_opinion_groups(seed):
    participant, statement, vote, truth = planted_votes(400, 45, 9000, groups=3, seed=seed)
    opinion_map = compute_map(as_votes(participant, statement, vote), seed=seed)
    assert opinion_map.k == 3
    assert ari(truth, opinion_map) >= 0.9
    sizes = list(opinion_map.group_sizes.values())
    assert sizes == sorted(sizes, reverse=True)  # a fresh map numbers its groups by size


def test_two_planted_groups_come_back_as_two_even_with_other_ids_and_strings():
    participant, statement, vote, truth = planted_votes(300, 30, 6000, groups=2, seed=5)
    votes = [(f"p{p}", f"s{s}", v) for p, s, v in as_votes(participant, statement, vote)]
    opinion_map = compute_map(votes)
    assert opinion_map.k == 2
    ids = list(opinion_map.groups)
    assert adjusted_rand_score([truth[int(p[1:])] for p in ids], [opinion_map.groups[p] for p in ids]) >= 0.9
    assert all(isinstance(s, str) for s in opinion_map.state.statements)


def test_the_last_vote_on_a_statement_wins_and_is_kept_in_polis_sign():
    matrix = opinions.build_matrix([(1, "a", AGREE), (2, "a", AGREE), (1, "b", PASS), (1, "a", DISAGREE)])
    assert matrix.participants == [1, 2] and matrix.statements == ["a", "b"]
    assert matrix.ratings.toarray().tolist() == [[1.0, 0.0], [-1.0, 0.0]]  # Polis: agree −1, disagree +1
    assert matrix.ratings.nnz == 3  # the pass is a vote, stored


# --- statements --------------------------------------------------------------------------------------------

def test_a_planted_consensus_statement_is_found_and_divisive_ones_are_not():
    participant, statement, vote, truth = planted_votes(400, 40, 9000, groups=3, consensus=2, seed=7)
    opinion_map = compute_map(as_votes(participant, statement, vote))
    agreed = [s.statement_id for s in opinion_map.consensus_stats if s.direction == "agree"]
    assert {0, 1} <= set(agreed[:2]) | set(agreed)
    assert set(agreed) <= {0, 1}  # no statement owned by one group is agreed by most
    informed = opinion_map.group_informed_consensus
    divisive = [informed[s] for s in range(2, 40)]
    assert min(informed[0], informed[1]) > 4 * max(divisive)
    for stat in opinion_map.consensus_stats:
        assert stat.p_value < 0.1 and stat.probability > 0.5


def test_each_groups_representative_statements_are_the_ones_it_was_planted_to_agree_with():
    participant, statement, vote, truth = planted_votes(400, 45, 9000, groups=3, seed=11)
    opinion_map = compute_map(as_votes(participant, statement, vote))
    assert opinion_map.k == 3
    members = {g: [p for p, group in opinion_map.groups.items() if group == g] for g in range(3)}
    planted_group = {g: np.bincount([truth[p] for p in members[g]]).argmax() for g in range(3)}
    for g, stats in opinion_map.representative.items():
        assert 1 <= len(stats) <= 5
        agreed = [s for s in stats if s.direction == "agree"]
        assert agreed and stats[0].direction == "agree"
        assert all(owner_of(s.statement_id, groups=3) == planted_group[g] for s in agreed)
        assert all(owner_of(s.statement_id, groups=3) != planted_group[g] for s in stats if s.direction == "disagree")
        for s in stats:
            assert s.repness > 1 and s.p_value < 0.1 and s.probability > 0.5
            share = s.agree_share if s.direction == "agree" else s.disagree_share
            assert share > 0.5


def test_statistics_follow_polis_formulas():
    # 8 of 10 agree in the group, 2 of 10 elsewhere: pseudocounted rates 9/12 and 3/12.
    z = opinions.two_proportion_z(8, 2, 10, 10)
    pooled = (9 + 3) / 22
    assert z == pytest.approx((9 / 11 - 3 / 11) / np.sqrt(pooled * (1 - pooled) * (2 / 11)))
    assert opinions.proportion_z(8, 10) == pytest.approx(2 * np.sqrt(11) * (9 / 11 - 0.5))
    assert opinions.two_proportion_z(5, 5, 5, 5) == 0  # identical groups: no difference
    assert opinions.priority(0, 0, 0, 0) > opinions.priority(10, 0, 20, 0)  # few votes come first
    assert opinions.priority(10, 0, 20, 1.0) > opinions.priority(10, 0, 20, 0.0)  # extreme ones too
    assert opinions.priority(2, 15, 20, 0) < opinions.priority(2, 0, 20, 0)  # passed ones less


# --- who is clustered --------------------------------------------------------------------------------------

def test_a_participant_is_clustered_from_seven_votes_and_mapped_with_fewer():
    participant, statement, vote, _ = planted_votes(200, 30, 4000, groups=2, seed=3)
    votes = as_votes(participant, statement, vote)
    votes += [(9001, s, AGREE) for s in range(6)] + [(9002, s, AGREE) for s in range(7)]
    opinion_map = compute_map(votes)
    assert 9001 not in opinion_map.groups and 9001 in opinion_map.coordinates
    assert 9002 in opinion_map.groups
    counts = {}
    for p, s, _ in set((p, s, 0) for p, s, _ in votes):
        counts[p] = counts.get(p, 0) + 1
    assert set(opinion_map.groups) == {p for p, n in counts.items() if n >= 7}
    assert opinion_map.n_participants == len(counts) and opinion_map.n_clustered == len(opinion_map.groups)


def test_with_fewer_than_seven_statements_voting_on_all_of_them_is_enough():
    votes = [(p, s, AGREE if (p < 10) == (s < 2) else DISAGREE) for p in range(20) for s in range(5)]
    votes += [(100, s, AGREE) for s in range(4)]
    opinion_map = compute_map(votes)
    assert set(range(20)) <= set(opinion_map.groups) and 100 not in opinion_map.groups


def test_while_fewer_than_fifteen_qualify_the_most_active_voters_are_clustered():
    votes = [(p, s, AGREE if (p + s) % 2 else DISAGREE) for p in range(3) for s in range(10)]
    votes += [(p, s, AGREE) for p in range(10, 40) for s in range(p % 4 + 1)]  # 1 to 4 votes each
    opinion_map = compute_map(votes)
    assert opinion_map.n_clustered == 15
    assert {0, 1, 2} <= set(opinion_map.groups)
    assert all(p % 4 + 1 >= 3 for p in opinion_map.groups if p >= 10)  # the 4- and 3-vote ones first


def test_once_in_conversation_a_participant_stays_clustered():
    participant, statement, vote, _ = planted_votes(200, 30, 4000, groups=2, seed=4)
    votes = as_votes(participant, statement, vote) + [(777, 0, AGREE), (777, 1, DISAGREE)]
    state = compute_map(votes).state
    state.in_conversation.append(777)
    assert 777 in compute_map(votes, previous=state).groups


# --- the number of groups ----------------------------------------------------------------------------------

def test_the_number_of_groups_changes_only_after_the_new_number_wins_four_updates_in_a_row():
    rng = np.random.default_rng(0)
    three = rng.choice(3, 400, p=[0.45, 0.35, 0.2])
    two = np.minimum(three, 1)  # the same people, before groups 1 and 2 part ways
    before = as_votes(*planted_votes(400, 40, 9000, groups=2, seed=1, group_of=two)[:3])
    after = as_votes(*planted_votes(400, 40, 9000, groups=3, seed=2, group_of=three)[:3])
    opinion_map = compute_map(before)
    assert opinion_map.k == 2
    shown, best = [], []
    for _ in range(6):
        opinion_map = compute_map(after, previous=opinion_map.state)
        shown.append(opinion_map.k)
        best.append(max(opinion_map.silhouettes, key=opinion_map.silhouettes.get))
    assert best == [3] * 6
    assert shown == [2, 2, 2, 3, 3, 3]
    assert ari(three, opinion_map) >= 0.9


def test_a_challenger_interrupted_before_its_fourth_win_starts_counting_again():
    def state(k, best_k, streak):
        return MapState(k=k, best_k=best_k, best_k_streak=streak)

    silhouettes = {2: 0.3, 3: 0.5}
    assert opinions._choose_k(silhouettes, state(2, 3, 2)) == (2, 3, 3)
    assert opinions._choose_k(silhouettes, state(2, 3, 3)) == (3, 3, 4)
    assert opinions._choose_k({2: 0.6, 3: 0.5}, state(2, 3, 3)) == (2, 2, 1)
    assert opinions._choose_k(silhouettes, None) == (3, 3, 1)  # a first map takes the best k at once


# --- excluded statements -----------------------------------------------------------------------------------

def test_excluded_statements_play_no_part_in_the_map_or_its_statements():
    participant, statement, vote, truth = planted_votes(300, 30, 7000, groups=3, consensus=1, seed=9)
    votes = as_votes(participant, statement, vote)
    excluded = {0, 1, 2}  # the consensus statement and one owned by each group
    opinion_map = compute_map(votes, excluded_statements=excluded, statements=range(32))
    columns = [opinion_map.state.statements.index(s) for s in excluded]
    assert np.allclose(np.asarray(opinion_map.state.components)[:, columns], 0)
    mentioned = {s.statement_id for stats in opinion_map.representative.values() for s in stats}
    mentioned |= set(opinion_map.consensus)
    mentioned |= set(opinion_map.group_informed_consensus) | set(opinion_map.priorities)
    assert not mentioned & excluded
    assert {30, 31} <= set(opinion_map.priorities)  # listed statements nobody voted on yet
    assert opinion_map.n_statements == 27
    assert ari(truth, opinion_map) >= 0.9


# --- incremental updates -----------------------------------------------------------------------------------

def test_an_update_from_the_previous_state_keeps_the_groups_and_their_numbers():
    participant, statement, vote, truth = planted_votes(400, 40, 9000, groups=3, seed=12)
    votes = as_votes(participant, statement, vote)
    first = compute_map(votes)
    again = compute_map(votes, previous=MapState.from_dict(json.loads(json.dumps(first.state.to_dict()))))
    assert again.groups == first.groups
    extra = as_votes(*planted_votes(400, 40, 600, groups=3, seed=13, group_of=truth)[:3])
    later = compute_map(votes + extra + [(500, s, AGREE) for s in range(8)], previous=first.state)
    kept = [p for p in first.groups]
    assert np.mean([later.groups[p] == first.groups[p] for p in kept]) >= 0.97  # same numbering, no relabel
    assert 500 in later.groups and later.state.updates == 2


def test_the_state_survives_json():
    participant, statement, vote, _ = planted_votes(200, 20, 3000, groups=2, seed=2)
    state = compute_map([(f"u{p}", s, v) for p, s, v in as_votes(participant, statement, vote)]).state
    text = json.dumps(state.to_dict())
    assert MapState.from_dict(json.loads(text)) == MapState.from_dict(state.to_dict())
    assert MapState.from_dict(json.loads(text)).to_dict() == json.loads(text)
    with pytest.raises(ValueError, match="not a map state"):
        MapState.from_dict({"k": 2})


# --- the next statement ------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(voted=st.sets(st.integers(0, 39)), extra=st.sets(st.integers(40, 45)), seed=st.integers(0, 10_000))
def test_the_next_statement_is_never_one_already_voted_on_or_excluded(small_map, voted, extra, seed):
    candidates = list(range(40)) + sorted(extra)
    chosen = next_statement(small_map, voted, candidates, random.Random(seed))
    left = [s for s in candidates if s not in voted and s not in small_map.excluded]
    if left:
        assert chosen in left
    else:
        assert chosen is None
    assert next_statement(small_map, voted, candidates, random.Random(seed)) == chosen  # deterministic


def test_statements_with_few_votes_are_shown_more_often(small_map):
    rng = np.random.default_rng(0)
    drawn = [next_statement(small_map, set(), [5, 99], rng) for _ in range(400)]
    assert drawn.count(99) > drawn.count(5)  # 99: nobody has voted on it yet
    assert next_statement(small_map.priorities, set(range(40)), range(40), rng) is None


@pytest.fixture(scope="module")
def small_map():
    participant, statement, vote, _ = planted_votes(200, 40, 5000, groups=2, seed=6)
    return compute_map(as_votes(participant, statement, vote), excluded_statements={3, 4})


# --- sparse PCA --------------------------------------------------------------------------------------------

def test_the_sparse_centred_matrix_and_operator_equal_the_dense_mean_filled_one():
    rng = np.random.default_rng(1)
    mask = rng.random((60, 25)) < 0.3
    values = rng.choice([-1.0, 0.0, 1.0], size=(60, 25))
    rows, cols = np.nonzero(mask)
    ratings = sparse.csr_matrix((values[mask], (rows, cols)), shape=mask.shape)
    active = np.ones(25, dtype=bool)
    means = opinions.column_means(ratings, active)
    column_mean = np.nanmean(np.where(mask, values, np.nan), axis=0)
    dense = np.where(mask, values, column_mean) - column_mean  # mean-filled, then centred: the textbook way
    centred = opinions.centred_matrix(ratings, active, means)
    assert np.allclose(centred.toarray(), dense)
    operator = opinions.centred_operator(ratings, sparse.csr_matrix(mask.astype(float)), means)
    probe = rng.standard_normal((25, 3))
    assert np.allclose(operator @ probe, dense @ probe)
    assert np.allclose(operator.rmatmat(rng.standard_normal((60, 2))).shape, (25, 2))
    components = opinions.principal_components(centred, 2)
    _, _, vt = np.linalg.svd(dense, full_matrices=False)
    for found, expected in zip(components, vt[:2]):
        assert abs(found @ expected) == pytest.approx(1.0, abs=1e-8)
    from_operator = opinions.principal_components(operator, 2)
    assert np.allclose(np.abs(from_operator @ components.T), np.eye(2), atol=1e-8)


def test_a_large_map_never_makes_the_vote_matrix_dense(monkeypatch):
    participant, statement, vote, truth = planted_votes(3000, 2000, 60_000, groups=3, seed=8)
    shape = (3000, 2000)
    original_toarray = sparse.csr_matrix.toarray
    original_todense = sparse.csr_matrix.todense

    def guarded(method):
        def check(self, *args, **kwargs):
            assert self.shape[0] * self.shape[1] < 1_000_000, f"densified a {self.shape} matrix"
            return method(self, *args, **kwargs)
        return check

    monkeypatch.setattr(sparse.csr_matrix, "toarray", guarded(original_toarray))
    monkeypatch.setattr(sparse.csr_matrix, "todense", guarded(original_todense))
    opinion_map = compute_map(as_votes(participant, statement, vote))
    assert (opinion_map.n_participants, opinion_map.n_statements) == shape
    assert opinion_map.k == 3 and ari(truth, opinion_map) >= 0.8


# --- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [[(1, 2, 2)], [(1, 2)], [(1, 2, "agree")]])
def test_malformed_votes_are_refused(bad):
    with pytest.raises(ValueError):
        compute_map(bad)


def test_votes_on_unlisted_statements_are_refused():
    with pytest.raises(ValueError, match="unknown statement 9"):
        compute_map([(1, 9, AGREE)], statements=[1, 2])


# --- Polis export files ------------------------------------------------------------------------------------

def write_export(folder: Path, *, votes=True, matrix=False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "comments.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated",
                         "comment-body"])
        for cid in range(12):
            writer.writerow([1000 + cid, "x", cid, 0, 0, 0, -1 if cid == 11 else 1, f"statement {cid}"])
    participant, statement, vote, _ = planted_votes(60, 11, 500, groups=2, seed=1)
    events = [(2000 + i, s, p, v) for i, (p, s, v) in enumerate(as_votes(participant, statement, vote))]
    events += [(1_000_000, 11, 0, AGREE), (5, 0, 0, DISAGREE), (9_999_999, 0, 0, AGREE)]  # 0 re-votes on 0
    if votes:
        with (folder / "votes.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["timestamp", "datetime", "comment-id", "voter-id", "vote"])
            writer.writerows((t, "x", s, p, v) for t, s, p, v in events[::-1])  # out of time order
    if matrix:
        last = {}
        for t, s, p, v in sorted(events):
            last[(p, s)] = v
        with (folder / "participants-votes.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree",
                             *range(12)])
            for p in sorted({p for p, _ in last}):
                writer.writerow([p, 9, 0, 0, 0, 0, *[last.get((p, s), "") for s in range(12)]])
    return folder


def test_a_polis_export_is_read_with_each_voters_last_vote_and_its_moderation(tmp_path):
    votes, comments = opinions.read_polis_export(write_export(tmp_path / "conv"))
    assert len(comments) == 12 and opinions.moderated_out(comments) == {11}
    assert comments[3].text == "statement 3" and comments[3].moderated == 1
    pairs = [(p, s) for p, s, _ in votes]
    assert len(pairs) == len(set(pairs))
    assert dict(((p, s), v) for p, s, v in votes)[(0, 0)] == AGREE  # the latest of three
    assert votes[0] == (0, 0, AGREE)  # in time order of each pair's first vote


def test_without_votes_csv_the_matrix_is_read_and_its_group_column_ignored(tmp_path):
    from_events, _ = opinions.read_polis_export(write_export(tmp_path / "a"))
    from_matrix, _ = opinions.read_polis_export(write_export(tmp_path / "b", votes=False, matrix=True))
    assert sorted(from_matrix) == sorted(from_events)


@pytest.mark.parametrize("damage, message", [
    ("no folder", "no such directory"),
    ("no comments", "comments.csv: missing"),
    ("no votes", "neither votes.csv nor participants-votes.csv"),
    ("bad header", "missing column"),
    ("bad vote", "vote 7 is not 1, -1 or 0"),
    ("bad number", "is not an integer"),
])
def test_a_damaged_export_is_refused_with_a_clear_message(tmp_path, damage, message):
    folder = write_export(tmp_path / "conv")
    if damage == "no folder":
        folder = tmp_path / "missing"
    elif damage == "no comments":
        (folder / "comments.csv").unlink()
    elif damage == "no votes":
        (folder / "votes.csv").unlink()
    elif damage == "bad header":
        (folder / "votes.csv").write_text("time,comment,voter,vote\n1,2,3,1\n")
    elif damage == "bad vote":
        (folder / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n1,x,2,3,7\n")
    elif damage == "bad number":
        (folder / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n1,x,two,3,1\n")
    with pytest.raises(ValueError, match=message):
        opinions.read_polis_export(folder)


# --- the command -------------------------------------------------------------------------------------------

def run_command(*args) -> str:
    out = io.StringIO()
    call_command("opinions", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_the_command_writes_exactly_the_map_summary(tmp_path):
    folder = write_export(tmp_path / "conv")
    out = tmp_path / "map.json"
    printed = run_command("map", "--polis-export", folder, "--out", out)
    result = json.loads(out.read_text())
    assert set(result) == {"k", "participants", "consensus", "representative"}
    assert result["k"] == len(result["representative"]) >= 2
    assert all(isinstance(p, str) and isinstance(g, int) for p, g in result["participants"].items())
    assert set(result["participants"].values()) == set(range(result["k"]))
    assert all(11 not in ids for ids in result["representative"].values()) and 11 not in result["consensus"]
    assert f"wrote {out}" in printed
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".map.json")]  # no temporary left


@pytest.mark.parametrize("case, message", [("missing export", "no such directory"),
                                           ("no out folder", "no such directory for the output"),
                                           ("out is a folder", "is a directory")])
def test_the_command_fails_clearly_and_writes_nothing(tmp_path, case, message):
    folder = write_export(tmp_path / "conv")
    out = tmp_path / "map.json"
    if case == "missing export":
        folder = tmp_path / "nowhere"
    elif case == "no out folder":
        out = tmp_path / "nowhere" / "map.json"
    elif case == "out is a folder":
        out = tmp_path
    with pytest.raises(CommandError, match=message):
        run_command("map", "--polis-export", folder, "--out", out)
    assert not (tmp_path / "map.json").exists()

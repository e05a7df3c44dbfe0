"""Vote counting against real elections with known results (shared/data/voting, see its README): Burlington
2009 (PrefLib .toi: IRV, plurality and Schulze give three different winners) and three RCTab regression cases
(cast-vote records + the contest configuration + RCTab's certified round-by-round report), compared round by
round: every tally, elected and eliminated candidate, transfer, residual surplus, inactive-ballot count by
reason and threshold. Skipped when the data are not there. Each file is read and counted once per module."""

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from gongzhi.deliberation import ballot_files
from gongzhi.deliberation.voting import BallotReading, RankedRules, count_ranked, irv, plurality, schulze

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "voting"
BURLINGTON = DATA / "burlington_2009_mayor" / "00005-00000002.toi"
RCTAB = {  # folder → file stem of the config and the expected report
    "portland_2015_mayor_sample": "2015_portland_mayor",
    "minneapolis_2013_mayor": "2013_minneapolis_mayor",
    "minneapolis_2013_park_board": "2013_minneapolis_park",
}
INACTIVE = {"exhaustedChoices": "exhausted_choices", "overvotes": "overvotes", "skippedRankings": "skipped_rankings",
            "repeatedRankings": "repeated_rankings", "finalRoundSurplus": "final_round_surplus"}

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"voting data not found at {DATA}")


def vote(*args) -> dict:
    out = io.StringIO()
    call_command("vote", *[str(a) for a in args], stdout=out)
    return json.loads(out.getvalue())


def exact(value) -> Decimal:
    return Decimal(str(value))


def differences(rounds: list[dict], expected: dict) -> list[str]:
    """Every way our rounds (as in `TallyResult.to_dict()`) differ from an RCTab detailed report."""
    problems = []
    if len(rounds) != len(expected["results"]):
        problems.append(f"{len(rounds)} rounds, RCTab has {len(expected['results'])}")
    for ours, theirs in zip(rounds, expected["results"]):
        n = theirs["round"]
        tally = {name: exact(v) for name, v in ours["tally"].items()}
        if tally != {name: Decimal(v) for name, v in theirs["tally"].items()}:
            problems.append(f"round {n}: tally {ours['tally']} vs {theirs['tally']}")
        for key, value in theirs["inactiveBallots"].items():
            if exact(ours.get("inactive", {}).get(INACTIVE[key], 0)) != Decimal(value):
                problems.append(f"round {n}: inactive {key} {ours.get('inactive')} vs {value}")
        if exact(ours["threshold"]) != Decimal(theirs["threshold"]):
            problems.append(f"round {n}: threshold {ours['threshold']} vs {theirs['threshold']}")
        for kind in ("elected", "eliminated"):
            names = sorted(r[kind] for r in theirs["tallyResults"] if kind in r)
            if sorted(ours[kind]) != names:
                problems.append(f"round {n}: {kind} {ours[kind]} vs {names}")
        for outcome in theirs["tallyResults"]:
            name = outcome.get("elected") or outcome.get("eliminated")
            moved = {to: Decimal(v) for to, v in outcome["transfers"].items() if to != "residual surplus"}
            mine = {to: exact(v) for to, v in ours.get("transfers", {}).get(name, {}).items()}
            if mine != moved:
                problems.append(f"round {n}: transfers from {name} {mine} vs {moved}")
            residual = outcome["transfers"].get("residual surplus")
            if residual is not None and exact(ours.get("residual_surplus", {}).get(name, 0)) != Decimal(residual):
                problems.append(f"round {n}: residual surplus of {name} {ours.get('residual_surplus')} vs {residual}")
    return problems


class Cases:
    """Each RCTab case read (config, CVR, expected report) and counted at most once."""

    def __init__(self):
        self.loaded = {}

    def __call__(self, folder: str):
        if folder not in self.loaded:
            path = DATA / folder
            if not path.is_dir():
                pytest.skip(f"{path} not found")
            stem = RCTAB[folder]
            config = ballot_files.read_rctab_config(path / f"{stem}_config.json")
            ballots = ballot_files.read_ballots(path / "cvr.csv", candidates=config.candidates,
                                                labels=config.labels, aliases=config.aliases)
            expected = json.loads((path / f"{stem}_expected_detailed_report.json").read_text(encoding="utf-8"))
            result = count_ranked(ballots, config.rules, method=config.method)
            self.loaded[folder] = config, ballots, expected, result
        return self.loaded[folder]


@pytest.fixture(scope="module")
def rctab():
    return Cases()


@pytest.fixture(scope="module")
def burlington():
    if not BURLINGTON.is_file():
        pytest.skip(f"{BURLINGTON} not found")
    return ballot_files.read_ballots(BURLINGTON)


# --- Burlington 2009 -----------------------------------------------------------------------------------------

def test_burlington_file_holds_6_alternatives_8980_voters_384_orders(burlington):
    assert burlington.candidates == ("Bob Kiss", "Andy Montroll", "James Simpson", "Dan Smith", "Kurt Wright",
                                     "Write-In")
    assert burlington.total == 8980 and burlington.marks.shape[0] == 384


def test_burlington_irv_elects_kiss_with_the_official_first_round(burlington):
    result = irv(burlington)
    assert result.winners == ["Bob Kiss"]
    assert result.rounds[0].tally == {"Kurt Wright": 2951, "Bob Kiss": 2585, "Andy Montroll": 2063,
                                      "Dan Smith": 1306, "Write-In": 36, "James Simpson": 35}
    # the README's count: a ballot whose top continuing rank is a tie is set aside (the default rule)
    assert result.rounds[-1].tally == {"Bob Kiss": 4314, "Kurt Wright": 4064}
    assert [r.eliminated for r in result.rounds[:-1]] == [["James Simpson"], ["Write-In"], ["Dan Smith"],
                                                          ["Andy Montroll"]]


def test_burlington_exhausting_ties_with_several_continuing_candidates_gives_the_official_final_round(burlington):
    # RCTab's exhaustIfMultipleContinuing: the tied ballots are exhausted for good, as the city counted them.
    result = irv(burlington, RankedRules(reading=BallotReading(overvote="exhaust-if-multiple-continuing")))
    assert result.rounds[-1].tally == {"Bob Kiss": 4313, "Kurt Wright": 4061}


def test_burlington_plurality_elects_wright_and_schulze_montroll_the_condorcet_winner(burlington):
    assert plurality(burlington).winners == ["Kurt Wright"]
    result = schulze(burlington)
    assert result.winners == ["Andy Montroll"]
    pairwise = result.rounds[0].extra["pairwise"]
    for rival, won, lost in [("Bob Kiss", 4067, 3477), ("Kurt Wright", 4597, 3668), ("Dan Smith", 4573, 2998),
                             ("James Simpson", 6267, 591), ("Write-In", 6658, 104)]:
        assert (pairwise["Andy Montroll"][rival], pairwise[rival]["Andy Montroll"]) == (won, lost)


def test_burlington_through_the_command_line():
    if not BURLINGTON.is_file():
        pytest.skip(f"{BURLINGTON} not found")
    assert vote("tally", "--method", "irv", "--ballots", BURLINGTON)["winners"] == ["Bob Kiss"]
    assert vote("tally", "--method", "plurality", "--ballots", BURLINGTON)["winners"] == ["Kurt Wright"]
    assert vote("tally", "--method", "schulze", "--ballots", BURLINGTON)["winners"] == ["Andy Montroll"]


# --- RCTab cases ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("folder, winners, rounds", [
    ("portland_2015_mayor_sample", ["Mavodones, Nicholas M. Jr."], 14),
    ("minneapolis_2013_mayor", ["BETSY HODGES"], 33),
    ("minneapolis_2013_park_board", ["JOHN ERWIN", "ANNIE YOUNG", "MEG FORNEY"], 11),
])
def test_rctab_case_matches_the_certified_report_round_by_round(rctab, folder, winners, rounds):
    _, ballots, expected, result = rctab(folder)
    assert result.winners == winners and len(result.rounds) == rounds
    assert differences(result.to_dict()["rounds"], expected) == []
    assert result.ballots == int(expected["summary"]["totalNumBallots"])
    assert result.blank_ballots == expected["summary"]["undervotes"]


def test_minneapolis_mayor_final_round(rctab):
    _, _, _, result = rctab("minneapolis_2013_mayor")
    final = result.rounds[-1]
    assert final.tally == {"BETSY HODGES": 38852, "MARK ANDREW": 24942} and final.threshold == 31898
    assert [r.eliminated for r in result.rounds if len(r.eliminated) > 1] == \
        [["BOB FINE", "JACKIE CHERRYHOMES"], ["CAM WINTON", "DON SAMUELS"]]  # the two batch eliminations


def test_park_board_surplus_moves_at_four_decimals_and_its_remainder_is_reported(rctab):
    _, _, _, result = rctab("minneapolis_2013_park_board")
    assert result.rounds[0].threshold == 14866  # Droop: floor(59,463 / 4) + 1, fixed from round 1
    tenth, last = result.rounds[9], result.rounds[10]
    assert tenth.elected == ["ANNIE YOUNG", "MEG FORNEY"]
    # 178 surplus of 15,044: 0.0118 per ballot (truncated) → 177.5192 moves, 0.4808 is lost to rounding
    assert tenth.transfers["ANNIE YOUNG"] == {"exhausted": 177.5192}
    assert tenth.residual_surplus == {"ANNIE YOUNG": 0.4808}
    assert last.tally["ANNIE YOUNG"] == 14866 and last.inactive["final_round_surplus"] == 177.5192


def test_portland_ties_are_broken_by_candidate_order_and_reported(rctab):
    _, _, _, result = rctab("portland_2015_mayor_sample")
    assert result.rounds[1].tiebreaks == [{"purpose": "eliminate", "tied": ["Marshall, David A.", "Rathband, Jed"],
                                           "chosen": "Rathband, Jed", "by": "declared candidate order"}]


def test_explicit_options_count_like_the_configuration(rctab):
    config, ballots, _, result = rctab("minneapolis_2013_mayor")
    rules = RankedRules(reading=BallotReading(overvote="exhaust", max_skipped_ranks=1, max_rankings=3),
                        threshold="majority-of-continuing", batch_elimination=True, tiebreak=config.rules.tiebreak)
    assert config.rules == rules
    assert irv(ballots, rules).to_dict() == result.to_dict()


def test_cli_counts_portland_round_by_round_from_the_configuration_or_from_options():
    folder = DATA / "portland_2015_mayor_sample"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    expected = json.loads((folder / "2015_portland_mayor_expected_detailed_report.json").read_text(encoding="utf-8"))
    printed = vote("tally", "--method", "irv", "--ballots", folder / "cvr.csv",
                   "--rctab-config", folder / "2015_portland_mayor_config.json")
    assert printed["winners"] == ["Mavodones, Nicholas M. Jr."]
    assert differences(printed["rounds"], expected) == []
    # the same rules as options; the declared order of the candidates is alphabetical here, as in the config
    by_hand = vote("tally", "--method", "irv", "--ballots", folder / "cvr.csv", "--overvote", "exhaust",
                   "--max-skipped-ranks", "1", "--batch-elimination", "--tiebreak", "order")
    assert differences(by_hand["rounds"], expected) == []


def test_cli_counts_the_park_board_by_stv_with_options():
    folder = DATA / "minneapolis_2013_park_board"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    expected = json.loads((folder / "2013_minneapolis_park_expected_detailed_report.json").read_text(encoding="utf-8"))
    printed = vote("tally", "--method", "stv", "--seats", "3", "--ballots", folder / "cvr.csv", "--overvote", "skip",
                   "--max-skipped-ranks", "2", "--decimals", "4", "--tiebreak", "random")
    assert printed["winners"] == ["JOHN ERWIN", "ANNIE YOUNG", "MEG FORNEY"]
    assert differences(printed["rounds"], expected) == []

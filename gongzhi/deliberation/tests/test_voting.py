"""Vote counting (gongzhi.deliberation.voting, ballot_files, `gongzhi vote tally`) as specifications: small
elections worked by hand (the working is in the comments), how every kind of tie is broken and reported,
properties over random ballots, and bad input. The real elections are in test_voting_data.py."""

import io
import json
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.deliberation import ballot_files
from gongzhi.deliberation.voting import (WRITE_IN, BallotReading, BallotSet, Mark, RankedRules, Tiebreak, approval,
                                         borda, count_ranked, count_yes_no_abstain, irv, majority_election,
                                         plurality, schulze, stv)


def box(*rankings, candidates=None, write_in=None):
    """Ballots from `(count, [ranks…])` pairs or bare rankings; see BallotSet.from_rankings."""
    return BallotSet.from_rankings(rankings, candidates, write_in=write_in)


def vote(*args) -> dict:
    out = io.StringIO()
    call_command("vote", *[str(a) for a in args], stdout=out)
    return json.loads(out.getvalue())


# --- yes / no / abstain ----------------------------------------------------------------------------------

def test_yes_no_abstain_counts_each_choice_and_abstentions_are_cast_votes():
    counted = count_yes_no_abstain(["yes", "YES", "no", "abstain", "赞成", "反对", "弃权", "同意"])
    assert (counted.yes, counted.no, counted.abstain, counted.cast) == (4, 2, 2, 8)
    assert count_yes_no_abstain({"yes": 31, "no": 9, "abstain": 2}).to_dict() == \
        {"yes": 31, "no": 9, "abstain": 2, "cast": 42}


def test_yes_no_abstain_rejects_anything_else():
    with pytest.raises(ValueError, match="maybe"):
        count_yes_no_abstain(["yes", "maybe"])
    with pytest.raises(ValueError, match="non-negative"):
        count_yes_no_abstain({"yes": -1})


# --- plurality and approval --------------------------------------------------------------------------------

def test_plurality_counts_first_choices_and_the_most_votes_win():
    # A is first on 4 ballots, B on 3, C on 2: A wins one seat; two seats go to A and B.
    ballots = box((4, ["A", "B"]), (3, ["B", "C"]), (2, ["C", "A"]))
    result = plurality(ballots)
    assert result.winners == ["A"] and result.ranking == ["A", "B", "C"]
    assert result.rounds[0].tally == {"A": 4, "B": 3, "C": 2}
    assert plurality(ballots, seats=2).winners == ["A", "B"]


def test_plurality_tie_for_the_last_seat_goes_by_declared_order_and_is_reported():
    # A 3, B 2, C 2: the second seat is a tie between B and C; C is declared first, so C takes it.
    ballots = box((3, ["A"]), (2, ["B"]), (2, ["C"]), candidates=["A", "C", "B"])
    result = plurality(ballots, seats=2)
    assert result.winners == ["A", "C"]
    assert result.rounds[0].tiebreaks == [{"purpose": "elect", "tied": ["C", "B"], "chosen": "C",
                                           "by": "declared candidate order"}]


def test_plurality_random_tiebreak_is_a_reproducible_draw_among_the_tied():
    ballots = box(["A"], ["B"], ["C"], (0, ["D"]))
    draws = {plurality(ballots, tiebreak=Tiebreak(backwards=False, fallback="random", seed=s)).winners[0]
             for s in range(30)}
    assert draws == {"A", "B", "C"}  # never D, who has no vote
    same = [plurality(ballots, tiebreak=Tiebreak(backwards=False, fallback="random", seed=7)).to_dict()
            for _ in range(2)]
    assert same[0] == same[1]
    assert same[0]["rounds"][0]["tiebreaks"][0]["by"] == "random draw (seed 7)"


def test_plurality_reads_first_choices_like_round_one_of_irv():
    # an overvote first exhausts under `exhaust`, is passed over under `skip`; a blank ballot counts nowhere
    ballots = box([Mark.OVERVOTE, "B"], ["A"], [None, None])
    exhaust = plurality(ballots, reading=BallotReading(overvote="exhaust"))
    assert exhaust.rounds[0].tally == {"A": 1, "B": 0}
    assert exhaust.rounds[0].inactive == {"exhausted_choices": 0, "overvotes": 1, "skipped_rankings": 0}
    assert exhaust.rounds[0].exhausted == 1 and exhaust.blank_ballots == 1
    assert plurality(ballots, reading=BallotReading(overvote="skip")).rounds[0].tally == {"A": 1, "B": 1}


def test_approval_counts_every_named_candidate_once_per_ballot():
    # ballot 1 approves A and B; ballot 2 names B twice (one approval) and C; ballot 3 a tie {A, C}
    ballots = box(["A", "B"], ["B", None, "B", "C"], [{"A", "C"}], [Mark.OVERVOTE])
    result = approval(ballots, seats=2)
    assert result.rounds[0].tally == {"A": 2, "B": 2, "C": 2}
    assert result.winners == ["A", "B"]  # a three-way tie: declared (alphabetical) order
    assert result.blank_ballots == 1     # the lone overvote names no one


# --- instant-runoff ----------------------------------------------------------------------------------------

def test_irv_transfers_the_last_candidates_votes_until_one_has_a_majority():
    # 17 ballots, threshold floor(17/2)+1 = 9.
    # Round 1: A 8, B 5, C 4 → no majority, C is last and eliminated; C's 4 ballots go to B.
    # Round 2: A 8, B 9 → B reaches 9 and wins, although A led the first round.
    ballots = box((8, ["A", "B", "C"]), (5, ["B", "C"]), (4, ["C", "B"]))
    result = irv(ballots)
    first, second = result.rounds
    assert (first.tally, first.eliminated, first.threshold) == ({"A": 8, "B": 5, "C": 4}, ["C"], 9)
    assert first.transfers == {"C": {"B": 4}}
    assert (second.tally, second.elected) == ({"A": 8, "B": 9}, ["B"])
    assert result.winners == ["B"] and result.ranking == ["B", "A", "C"]


def test_irv_majority_is_of_the_votes_still_counting_so_exhausted_ballots_lower_it():
    # 10 ballots: A 4, B 3, C 3 (only C ranked: they exhaust). Threshold round 1: 6.
    # Round 1: B and C tie on 3; declared order eliminates C (backwards has no earlier round).
    # Round 2: A 4, B 3, 3 exhausted; threshold floor(7/2)+1 = 4, so A wins with 4 of 10.
    ballots = box((4, ["A"]), (3, ["B"]), (3, ["C"]))
    result = irv(ballots)
    assert [r.threshold for r in result.rounds] == [6, 4]
    assert result.rounds[0].tiebreaks == [{"purpose": "eliminate", "tied": ["B", "C"], "chosen": "C",
                                           "by": "declared candidate order"}]
    assert result.rounds[1].exhausted == 3 and result.rounds[1].inactive["exhausted_choices"] == 3
    assert result.winners == ["A"]


BACKWARDS = box((10, ["A"]), (5, ["B", "C"]), (6, ["C"]), (1, ["D", "B"]), (1, ["D"]))


def test_irv_tie_is_broken_by_the_earlier_round_where_the_tied_candidates_differed():
    # Round 1: A 10, B 5, C 6, D 2 → D eliminated: one ballot to B, one exhausts.
    # Round 2: A 10, B 6, C 6 — B and C tie; in round 1 B had fewer (5 < 6), so B goes.
    # Round 3: B's 5 ballots go to C (the D→B ballot exhausts): A 10, C 11 of 21; threshold 11: C wins.
    result = irv(BACKWARDS)
    assert result.rounds[1].tally == {"A": 10, "B": 6, "C": 6}
    assert result.rounds[1].tiebreaks == [{"purpose": "eliminate", "tied": ["B", "C"], "chosen": "B",
                                           "by": "tally of round 1"}]
    assert result.rounds[2].tally == {"A": 10, "C": 11} and result.winners == ["C"]


def test_irv_same_tie_by_declared_order_alone_eliminates_the_later_declared_and_changes_the_winner():
    # Without looking back, C (declared after B) goes in round 2; C's 6 ballots exhaust;
    # round 3: A 10, B 6 of 16 (threshold 9): A wins.
    result = irv(BACKWARDS, RankedRules(tiebreak=Tiebreak(backwards=False)))
    assert result.rounds[1].eliminated == ["C"] and result.winners == ["A"]


def test_irv_batch_elimination_removes_every_candidate_who_could_not_overtake_the_next():
    # A 10, B 9, C 2, D 1: D+C = 3 < B's 9 (and D alone 1 < 2, but a batch needs two); A+…: 12 ≥ 10 stops.
    # So C and D go together in round 1 (D's ballot passes over C, also out, to B); without batches D goes
    # first, then C.
    ballots = box((10, ["A"]), (9, ["B"]), (2, ["C", "B"]), (1, ["D", "C", "B"]))
    batch = irv(ballots, RankedRules(batch_elimination=True))
    assert batch.rounds[0].eliminated == ["D", "C"]
    assert batch.rounds[0].transfers == {"C": {"B": 2}, "D": {"B": 1}}
    assert batch.rounds[1].tally == {"A": 10, "B": 12} and batch.winners == ["B"]
    one_by_one = irv(ballots)
    assert [r.eliminated for r in one_by_one.rounds[:2]] == [["D"], ["C"]]


def test_irv_eliminates_the_undeclared_write_in_first_when_it_has_votes():
    # RCTab's rule: the write-in (3 votes) goes before X (1 vote), who is lower.
    ballots = box((5, ["A"]), (4, ["B"]), (1, ["X", "A"]), (3, [WRITE_IN, "B"]), write_in=WRITE_IN)
    assert irv(ballots).rounds[0].eliminated == [WRITE_IN]
    assert irv(ballots, RankedRules(eliminate_write_in_first=False)).rounds[0].eliminated == ["X"]


def test_irv_minimum_vote_threshold_eliminates_everyone_below_it_at_once():
    ballots = box((6, ["A"]), (5, ["B"]), (2, ["C", "A"]), (1, ["D", "B"]))
    result = irv(ballots, RankedRules(minimum_vote_threshold=3))
    assert result.rounds[0].eliminated == ["D", "C"]
    assert result.rounds[1].tally == {"A": 8, "B": 6}


def test_irv_continue_until_two_keeps_eliminating_past_a_majority():
    ballots = box((6, ["A"]), (3, ["B"]), (1, ["C", "B"]))
    assert len(irv(ballots).rounds) == 1  # A has 6 of 10
    longer = irv(ballots, RankedRules(continue_until_two=True))
    assert [list(r.tally) for r in longer.rounds] == [["A", "B", "C"], ["A", "B"]]
    assert longer.winners == ["A"]


def test_excluded_candidates_are_never_counted_and_their_ballots_go_to_the_next_choice():
    ballots = box((3, ["A"]), (2, ["B", "C"]), (2, ["C"]))
    result = irv(ballots, RankedRules(excluded=frozenset({"B"})))
    assert result.rounds[0].tally == {"A": 3, "C": 4} and result.winners == ["C"]
    assert result.ranking[-1] == "B"


# --- reading ranked ballots ----------------------------------------------------------------------------------

def test_overvote_rules_on_an_unnamed_overvote():
    # [overvote, B]: exhausted at once, or passed over to B. `exhaust-if-multiple-continuing` and `set-aside`
    # cannot know who was marked, so they exhaust.
    ballots = box([Mark.OVERVOTE, "B"], ["A"], ["A"])
    for rule, b_votes in [("exhaust", 0), ("skip", 1), ("exhaust-if-multiple-continuing", 0), ("set-aside", 0)]:
        first = irv(ballots, RankedRules(reading=BallotReading(overvote=rule))).rounds[0]
        assert first.tally["B"] == b_votes, rule
        assert first.inactive["overvotes"] == 1 - b_votes, rule


def test_overvote_rules_on_a_named_tie():
    # 1 × [{A, B}, C]; 2 × [A]; 2 × [B]; 1 × [C].
    ballots = box([{"A", "B"}, "C"], (2, ["A"]), (2, ["B"]), ["C"], candidates=["A", "B", "C"])

    def rounds(rule):
        return [(r.tally, r.inactive) for r in irv(ballots, RankedRules(reading=BallotReading(overvote=rule))).rounds]

    # exhaust: the tie ends the ballot in round 1.
    assert rounds("exhaust")[0] == ({"A": 2, "B": 2, "C": 1}, {"exhausted_choices": 0, "overvotes": 1,
                                                               "skipped_rankings": 0})
    # skip: the tied rank is passed over; the ballot counts for C.
    assert rounds("skip")[0][0] == {"A": 2, "B": 2, "C": 2}
    # exhaust-if-multiple-continuing: A and B both continue in round 1 → exhausted for good.
    assert rounds("exhaust-if-multiple-continuing")[-1][1]["overvotes"] == 1
    # set-aside: counted for no one while A and B both continue. Round 1: A 2, B 2, C 1 → C out (its ballot
    # exhausts). Round 2: A 2, B 2, equal in round 1 too, so declared order eliminates B. Round 3: the
    # set-aside ballot now has one continuing candidate at its tied rank: A 3, elected.
    aside = rounds("set-aside")
    assert aside[0][1]["set_aside"] == 1 and aside[0][0] == {"A": 2, "B": 2, "C": 1}
    assert aside[-1] == ({"A": 3}, {"exhausted_choices": 3, "overvotes": 0, "skipped_rankings": 0})


def test_set_aside_ballot_is_reported_coming_back():
    ballots = box([{"A", "B"}], (3, ["A"]), (1, ["B"]), (3, ["C"]), candidates=["A", "B", "C"])
    result = irv(ballots)
    # Round 1: A 3, B 1, C 3, one set aside; B eliminated → B's own ballot exhausts, the set-aside one
    # now counts for A.
    assert result.rounds[0].transfers == {"B": {"exhausted": 1}, "(set aside)": {"A": 1}}
    assert result.rounds[1].tally == {"A": 4, "C": 3}


def test_too_many_skipped_ranks_exhaust_the_ballot_where_the_next_mark_is():
    # [—, —, B] skips 2 ranks before its first mark; [A, —, —, B] skips 2 between A and B.
    ballots = box([None, None, "B"], ["A", None, None, "B"], (2, ["C"]), ["B"])
    # At most 1 skipped rank: the first ballot is exhausted at once; the second counts for A.
    one = irv(ballots, RankedRules(reading=BallotReading(max_skipped_ranks=1)))
    assert one.rounds[0].tally == {"A": 1, "B": 1, "C": 2} and one.rounds[0].inactive["skipped_rankings"] == 1
    # With A withdrawn the second ballot must read past its two skips to B: exhausted too.
    without_a = irv(ballots, RankedRules(reading=BallotReading(max_skipped_ranks=1), excluded=frozenset({"A"})))
    assert without_a.rounds[0].inactive["skipped_rankings"] == 2
    # Unlimited skips (the default): both reach B.
    unlimited = irv(ballots, RankedRules(excluded=frozenset({"A"})))
    assert unlimited.rounds[0].tally == {"B": 3, "C": 2}


def test_max_rankings_ignores_lower_ranks_and_duplicates_can_exhaust():
    ballots = box(["A", "B", "C"], (2, ["C"]), (2, ["B"]), candidates=["A", "B", "C"])
    # only the first rank read: A's ballot exhausts when A (1) is eliminated
    short = irv(ballots, RankedRules(reading=BallotReading(max_rankings=1)))
    assert short.rounds[1].inactive["exhausted_choices"] == 1
    repeat = box(["A", "A", "B"], (2, ["B"]), (2, ["C"]))
    assert irv(repeat).rounds[1].tally == {"B": 3, "C": 2}
    strict = irv(repeat, RankedRules(reading=BallotReading(exhaust_on_duplicate=True)))
    assert strict.rounds[1].inactive["repeated_rankings"] == 1


def test_blank_ballots_count_in_no_round():
    result = irv(box((2, [None, None]), (3, ["A"]), (1, ["B"])))
    assert result.blank_ballots == 2 and result.ballots == 6
    assert result.rounds[0].exhausted == 0 and sum(result.rounds[0].tally.values()) == 4


# --- STV ---------------------------------------------------------------------------------------------------

def test_stv_moves_a_winners_surplus_at_a_fraction_of_each_ballot():
    # 2 seats, 25 ballots: Droop threshold floor(25/3)+1 = 9.
    # Round 1: A 15, D 6, C 4, B 0 → A elected; surplus 6 of 15 = 0.4 per ballot:
    #          12 [A,B] ballots give B 4.8, 3 [A,C] give C 1.2.
    # Round 2: B 4.8, C 5.2, D 6 — nobody at 9; B eliminated, its ballots (A already elected) exhaust: 4.8.
    # Round 3: C 5.2, D 6: C eliminated (its [C] ballots exhaust). Round 4: D alone for one seat: elected.
    ballots = box((12, ["A", "B"]), (3, ["A", "C"]), (4, ["C"]), (6, ["D"]))
    result = stv(ballots, RankedRules(seats=2))
    r1, r2, r3, r4 = result.rounds
    assert r1.threshold == 9 and r1.elected == ["A"]
    assert r1.transfers == {"A": {"B": 4.8, "C": 1.2}}
    assert r2.tally == {"A": 9, "B": 4.8, "C": 5.2, "D": 6} and r2.eliminated == ["B"]
    assert r3.exhausted == 4.8 and r3.eliminated == ["C"]
    assert r4.elected == ["D"] and result.winners == ["A", "D"]


def test_stv_truncates_the_surplus_fraction_and_reports_the_residual():
    # 10 ballots, 2 seats: threshold floor(10/3)+1 = 4. A 7 elected, surplus 3: 3/7 = 0.428571… → 0.4285.
    # Each of A's 7 ballots moves 0.4285 to B: 2.9995; 0.0005 of the surplus is lost to rounding.
    ballots = box((7, ["A", "B"]), (2, ["C"]), (1, ["D", "C"]))
    result = stv(ballots, RankedRules(seats=2))
    assert result.rounds[0].residual_surplus == {"A": 0.0005}
    assert result.rounds[1].tally == {"A": 4, "B": 2.9995, "C": 2, "D": 1}
    # Round 3: B 2.9995, C 3 → B eliminated; round 4: C alone → elected.
    assert result.winners == ["A", "C"]
    with_two_places = stv(ballots, RankedRules(seats=2, decimals=2))
    assert with_two_places.rounds[1].tally["B"] == 2.94  # 3/7 → 0.42, × 7


def test_stv_several_over_the_threshold_are_elected_together_or_one_per_round():
    # 13 ballots, 2 seats, threshold 5: A 6 and B 6 both reach it.
    ballots = box((6, ["A"]), (6, ["B"]), (1, ["C"]))
    together = stv(ballots, RankedRules(seats=2))
    assert together.rounds[0].elected == ["A", "B"]
    # The surpluses (1 each) still move, in a final round; here they exhaust, so they are the final surplus:
    # 1/6 → 0.1666 per ballot, × 6 = 0.9996 each.
    final = together.rounds[1]
    assert final.tally == {"A": 5, "B": 5, "C": 1} and final.inactive["final_round_surplus"] == 1.9992
    one_each = stv(ballots, RankedRules(seats=2, multiple_winners_per_round=False))
    assert [r.elected for r in one_each.rounds[:2]] == [["A"], ["B"]]
    assert one_each.rounds[0].tiebreaks[0]["chosen"] == "A"  # 6 = 6: declared order elects A first


def test_stv_final_surplus_is_only_what_the_winners_ballots_leave_to_no_one():
    # 14 ballots, 2 seats, threshold 5: A 6 and B 6 elected in round 1; one ballot [{C, D}] is set aside.
    # In the final round A's and B's surplus (0.9996 each) has nowhere to go; the set-aside ballot stays
    # set aside (C and D both continue) and is not part of that surplus.
    ballots = box((6, ["A"]), (6, ["B"]), (1, ["C"]), (1, [{"C", "D"}]), candidates=list("ABCD"))
    final = stv(ballots, RankedRules(seats=2)).rounds[-1]
    assert final.inactive["final_round_surplus"] == 1.9992 and final.inactive["set_aside"] == 1


def test_stv_hare_and_non_integer_thresholds():
    ballots = box((5, ["A"]), (4, ["B"]), (3, ["C"]))
    assert stv(ballots, RankedRules(seats=2, threshold="hare")).rounds[0].threshold == 7      # floor(12/2)+1
    assert stv(ballots, RankedRules(seats=2, non_integer_threshold=True)).rounds[0].threshold == 4.0001  # 12/3 + 0.0001


def test_stv_more_seats_than_candidates_elects_them_all_and_reports_unfilled_seats():
    result = stv(box((2, ["A"]), (1, ["B"])), RankedRules(seats=3))
    assert result.winners == ["A", "B"] and result.extra["unfilled_seats"] == 1


# --- Schulze and Borda -------------------------------------------------------------------------------------

def test_schulze_on_the_textbook_45_voter_example():
    # Markus Schulze's example: 45 voters, A–E; no Condorcet winner (e.g. d[A,B] = 20 < d[B,A] = 25 but
    # d[B,C] = 16 < d[C,B] = 29). Strongest paths make E beat everyone: E > A > C > B > D.
    ballots = box((5, list("ACBED")), (5, list("ADECB")), (8, list("BEDAC")), (3, list("CABED")),
                  (7, list("CAEBD")), (2, list("CBADE")), (7, list("DCEBA")), (8, list("EBADC")))
    result = schulze(ballots)
    assert result.winners == ["E"] and result.ranking == ["E", "A", "C", "B", "D"]
    paths = result.rounds[0].extra["strongest_paths"]
    assert paths["E"] == {"A": 25, "B": 28, "C": 28, "D": 31}  # the published p[E, *]
    assert paths["A"]["E"] == 24  # E beats A by paths: p[E,A] 25 > p[A,E] 24, though d[A,E] 22 < d[E,A] 23
    assert result.rounds[0].extra["pairwise"]["A"]["B"] == 20


def test_schulze_cycle_is_a_tie_broken_by_declared_order_and_reported():
    # A>B>C, B>C>A, C>A>B: every pair 2–1, every strongest path 2: no one beats anyone.
    result = schulze(box(list("ABC"), list("BCA"), list("CAB")))
    assert result.rounds[0].tally == {"A": 0, "B": 0, "C": 0}
    assert result.winners == ["A"] and result.extra["schulze_winners"] == ["A", "B", "C"]
    assert result.rounds[0].tiebreaks[0]["tied"] == ["A", "B", "C"]


def test_borda_points_count_candidates_ranked_below_and_half_for_ties():
    # 3 candidates. [A,B,C] ×2: A 2, B 1, C 0 each. [B,C,A]: B 2, C 1, A 0.
    # A 4, B 4, C 1 → A and B tie; declared order elects A.
    result = borda(box((2, list("ABC")), list("BCA")))
    assert result.rounds[0].tally == {"A": 4, "B": 4, "C": 1} and result.winners == ["A"]
    # A ballot ranking only A: A is above both (2); B and C share the bottom (½ each).
    assert borda(box(["A"], candidates=["A", "B", "C"])).rounds[0].tally == {"A": 2, "B": 0.5, "C": 0.5}
    # A tie at the top: {A,B} above C: A and B 1½ each, C 0.
    assert borda(box([{"A", "B"}, "C"])).rounds[0].tally == {"A": 1.5, "B": 1.5, "C": 0}


# --- villagers' committee majority election ---------------------------------------------------------------

def test_majority_election_needs_more_than_half_of_the_ballots_cast_and_sends_unfilled_seats_to_a_further_round():
    # 3 seats, 11 ballots cast: elected with more than 5.5, i.e. 6. One ballot marks 4 names: invalid.
    #   A: 8, B: 6, C: 5, D: 4, E: 2 (counting valid ballots only).
    # A and B are elected; 1 seat unfilled; the further round takes 2 candidates: C and D.
    ballots = box((4, ["A", "B", "C"]), (2, ["A", "B", "D"]), (1, ["A"]), (1, ["A", "D", "E"]),
                  (1, ["C", "D", "E"]), (1, [None]), (1, ["A", "B", "C", "D"]))
    result = majority_election(ballots, seats=3)
    record = result.rounds[0]
    assert record.tally == {"A": 8, "B": 6, "C": 5, "D": 4, "E": 2}
    assert record.threshold == 6 and record.inactive == {"invalid": 1}
    assert result.winners == ["A", "B"]
    assert result.extra == {"unfilled_seats": 1, "further_round": ["C", "D"]}
    assert result.blank_ballots == 1 and result.ballots == 11


def test_majority_election_tie_for_the_last_seat_elects_neither():
    # 2 seats, 10 ballots: A 7, B 6, C 6 — all pass (more than 5), but B and C tie for the second seat:
    # the law wants a new vote between them, so neither is elected and both go to the further round.
    ballots = box((4, ["A", "B"]), (3, ["A", "C"]), (2, ["B", "C"]), (1, ["C"]))
    result = majority_election(ballots, seats=2)
    assert result.winners == ["A"] and result.extra["further_round"] == ["B", "C"]


def test_majority_election_further_round_is_configurable_and_its_cut_tie_is_reported():
    ballots = box((3, ["A"]), (3, ["B"]), (3, ["C"]), (1, ["D"]))
    result = majority_election(ballots, seats=1, further_round_factor=1, quota=Fraction(1, 3))
    # quota a third: more than 10/3 → 4 votes needed; no one has it. One place in the further round:
    # A, B, C tie on 3; declared order picks A.
    assert result.winners == [] and result.extra["further_round"] == ["A"]
    assert result.rounds[0].tiebreaks[0]["tied"] == ["A", "B", "C"]


# --- properties --------------------------------------------------------------------------------------------

NAMES = "ABCDE"
ranking = st.lists(st.sampled_from(NAMES), unique=True, max_size=5)
profile = st.lists(st.tuples(st.integers(1, 4), ranking), min_size=1, max_size=25)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# messier ballots: skipped ranks, unnamed overvotes and two-way ties among the names
messy_rank = st.one_of(st.sampled_from(NAMES), st.just(None), st.just(Mark.OVERVOTE),
                       st.frozensets(st.sampled_from(NAMES), min_size=2, max_size=2))
messy_profile = st.lists(st.tuples(st.integers(1, 4), st.lists(messy_rank, max_size=6)), min_size=1, max_size=25)
any_reading = st.builds(BallotReading, overvote=st.sampled_from(["exhaust", "skip", "exhaust-if-multiple-continuing",
                                                                 "set-aside"]),
                        max_skipped_ranks=st.sampled_from([None, 0, 1]), exhaust_on_duplicate=st.booleans())


def boxed(items):
    return BallotSet.from_rankings([(c, r) for c, r in items], candidates=list(NAMES))


def naive_irv(items):
    """A slow reference: recount every round from the top of every ballot; ties by earlier rounds, then the
    later-declared candidate goes."""
    continuing, history = list(NAMES), []
    while True:
        tally = {c: 0 for c in continuing}
        for count, ranks in items:
            top = next((c for c in ranks if c in continuing), None)
            if top:
                tally[top] += count
        history.append(tally)
        total = sum(tally.values())
        leader = max(continuing, key=lambda c: (tally[c], -NAMES.index(c)))
        if tally[leader] >= total // 2 + 1 or len(continuing) == 1:
            return leader, len(history)
        low = min(tally.values())
        tied = [c for c in continuing if tally[c] == low]
        for past in reversed(history[:-1]):
            if len(tied) == 1:
                break
            least = min(past[c] for c in tied)
            tied = [c for c in tied if past[c] == least]
        continuing.remove(max(tied, key=NAMES.index))


@FAST
@given(profile)
def test_irv_agrees_with_a_naive_recount(items):
    result = irv(boxed(items))
    if any(ranks for _, ranks in items):
        winner, rounds = naive_irv(items)
        assert (result.winners, len(result.rounds)) == ([winner], rounds)


@FAST
@given(profile, st.sampled_from(NAMES))
def test_a_majority_of_first_choices_wins_irv_in_round_one(items, favourite):
    items = items + [(sum(c for c, _ in items) + 1, [favourite])]
    result = irv(boxed(items))
    assert result.winners == [favourite] and len(result.rounds) == 1


@FAST
@given(messy_profile, any_reading)
def test_every_irv_round_accounts_for_every_ballot(items, reading):
    result = irv(boxed(items), RankedRules(reading=reading, batch_elimination=True))
    for record in result.rounds:
        assert sum(record.tally.values()) + record.exhausted + result.blank_ballots == result.ballots


@FAST
@given(messy_profile, st.integers(1, 4), any_reading)
def test_stv_fills_every_seat_it_can_and_loses_only_rounding(items, seats, reading):
    result = stv(boxed(items), RankedRules(seats=seats, reading=reading))
    running = [c for c in NAMES]
    assert len(result.winners) == min(seats, len(running)) and len(set(result.winners)) == len(result.winners)
    residual = Decimal(0)
    for record in result.rounds:
        total = sum(Decimal(str(v)) for v in record.tally.values()) + Decimal(str(record.exhausted))
        assert total + residual == result.ballots - result.blank_ballots
        residual += sum(Decimal(str(v)) for v in record.residual_surplus.values())


def pairwise_by_hand(items):
    beats = {(a, b): 0 for a in NAMES for b in NAMES}
    for count, ranks in items:
        position = {c: i for i, c in enumerate(ranks)}
        for a in NAMES:
            for b in NAMES:
                if a != b and position.get(a, 99) < position.get(b, 99):
                    beats[a, b] += count
    return beats


@FAST
@given(profile)
def test_the_condorcet_winner_wins_schulze(items):
    beats = pairwise_by_hand(items)
    condorcet = [a for a in NAMES if all(beats[a, b] > beats[b, a] for b in NAMES if b != a)]
    result = schulze(boxed(items))
    if condorcet:
        assert result.winners == condorcet
    for a in NAMES:  # the reported matrix is the hand count
        assert result.rounds[0].extra["pairwise"][a] == {b: beats[a, b] for b in NAMES if b != a}


@FAST
@given(profile, st.randoms(use_true_random=False), st.integers(1, 3))
def test_plurality_borda_approval_and_schulze_do_not_depend_on_ballot_order(items, rng, seats):
    shuffled = list(items)
    rng.shuffle(shuffled)
    for count in (plurality, borda, approval, schulze):
        assert count(boxed(items), seats).to_dict() == count(boxed(shuffled), seats).to_dict(), count.__name__


@FAST
@given(profile)
def test_irv_random_tiebreak_is_reproducible(items):
    rules = RankedRules(tiebreak=Tiebreak(backwards=False, fallback="random", seed=3))
    assert irv(boxed(items), rules).to_dict() == irv(boxed(items), rules).to_dict()


# --- bad input -----------------------------------------------------------------------------------------------

def test_bad_rules_and_ballots_are_value_errors():
    with pytest.raises(ValueError, match="seats"):
        RankedRules(seats=0)
    with pytest.raises(ValueError, match="one candidate"):
        irv(box(["A"]), RankedRules(seats=2))
    with pytest.raises(ValueError, match="majority-of-continuing"):
        RankedRules(seats=2, threshold="majority-of-continuing")
    with pytest.raises(ValueError, match="overvote rule"):
        BallotReading(overvote="ignore")
    with pytest.raises(ValueError, match="unknown candidate 'Z'"):
        box(["A", "Z"], candidates=["A", "B"])
    with pytest.raises(ValueError, match="excluded candidate"):
        irv(box(["A"]), RankedRules(excluded=frozenset({"Q"})))
    with pytest.raises(ValueError, match="seats"):
        plurality(box(["A"]), seats=0)
    with pytest.raises(ValueError, match="unknown tie-break"):
        Tiebreak.named("coin")


@pytest.mark.parametrize("name, text, message", [
    ("a.toi", "# ALTERNATIVE NAME 1: A\n# ALTERNATIVE NAME 2: B\n3: 1,2\n2 1,2\n",
     r"a\.toi, line 4: expected 'count: ranking'"),
    ("a.toi", "# NUMBER ALTERNATIVES: 2\n3: 1,{2\n", r"line 2: unclosed"),
    ("a.toi", "# NUMBER ALTERNATIVES: 2\n3: 1,3\n", r"line 2: alternative 3 is outside 1\.\.2"),
    ("a.toi", "# NUMBER ALTERNATIVES: 2\n3: 1,1\n", r"line 2: alternative 1 appears twice"),
    ("a.soi", "# NUMBER ALTERNATIVES: 3\n3: 1,{2,3}\n", r"line 2: a tie"),
    ("a.soc", "# NUMBER ALTERNATIVES: 3\n3: 1,2\n", r"line 2: ranks 2 of 3"),
    ("a.toi", "# NUMBER VOTERS: 9\n# NUMBER ALTERNATIVES: 2\n3: 1,2\n", r"NUMBER VOTERS is 9"),
    ("a.toi", "# DATA TYPE: soc\n3: 1\n", r"DATA TYPE soc"),
    ("a.toi", "x: 1,2\n", r"line 1: the count before ':' must be a whole number"),
    ("a.csv", "ballot,choice\n1,A\n", r"a\.csv, line 1: no rank columns"),
    ("a.csv", "rank1,rank3,count\nA,B,1\n", r"rank1…rank2"),
    ("a.csv", "rank1,rank2,count\nA,B,x\n", r"line 2: count must be a whole number"),
    ("a.csv", "rank1,rank2,count\nA,B,1\nA,1\n", r"line 3: 2 fields, the header has 3"),
    ("a.txt", "1: 1\n", r"unknown ballot file format '\.txt'"),
])
def test_bad_ballot_files_name_the_file_and_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        ballot_files.read_ballots(path)


def test_cvr_names_outside_the_declared_candidates_are_errors_and_labels_are_read(tmp_path):
    path = tmp_path / "cvr.csv"
    path.write_text("id,rank1,rank2,rank3,count\n1, A ,UWI,overvote,2\n2,undervote,B,,1\n3,A,B,UWI,1\n",
                    encoding="utf-8")
    ballots = ballot_files.read_ballots(path)
    assert ballots.candidates == ("A", "B", WRITE_IN) and ballots.write_in == WRITE_IN
    assert ballots.rankings() == [(2, ["A", WRITE_IN, Mark.OVERVOTE]), (1, [Mark.SKIPPED, "B", Mark.SKIPPED]),
                                  (1, ["A", "B", WRITE_IN])]
    with pytest.raises(ValueError, match=r"line 3, rank2: 'B' is not a declared candidate"):
        ballot_files.read_ballots(path, candidates=["A"])


def test_preflib_file_reads_names_counts_and_ties(tmp_path):
    path = tmp_path / "e.toi"
    path.write_text("# DATA TYPE: toi\n# NUMBER ALTERNATIVES: 3\n# NUMBER VOTERS: 5\n# NUMBER UNIQUE ORDERS: 2\n"
                    "# ALTERNATIVE NAME 1: Ann\n# ALTERNATIVE NAME 2: Bo\n# ALTERNATIVE NAME 3: Cy\n"
                    "3: 2,{1,3}\n2: 3\n", encoding="utf-8")
    ballots = ballot_files.read_ballots(path)
    assert ballots.candidates == ("Ann", "Bo", "Cy")
    assert ballots.rankings() == [(3, ["Bo", frozenset({"Ann", "Cy"})]), (2, ["Cy", Mark.SKIPPED])]


def test_cli_tally_prints_the_result_as_json(tmp_path):
    path = tmp_path / "e.soi"
    path.write_text("# ALTERNATIVE NAME 1: A\n# ALTERNATIVE NAME 2: B\n# ALTERNATIVE NAME 3: C\n"
                    "8: 1,2,3\n5: 2,3\n4: 3,2\n", encoding="utf-8")
    printed = vote("tally", "--method", "irv", "--ballots", path)
    assert printed["winners"] == ["B"] and printed["ranking"] == ["B", "A", "C"]
    assert [r["tally"] for r in printed["rounds"]] == [{"A": 8, "B": 5, "C": 4}, {"A": 8, "B": 9}]
    assert printed["rounds"][0]["eliminated"] == ["C"] and printed["rounds"][1]["exhausted"] == 0
    assert vote("tally", "--method", "plurality", "--ballots", path, "--seats", "2")["winners"] == ["A", "B"]
    assert vote("tally", "--method", "stv", "--ballots", path, "--seats", "2")["winners"] == ["A", "B"]


@pytest.mark.parametrize("args, message", [
    (["--method", "irv", "--ballots", "{toi}", "--seats", "0"], "--seats must be at least 1"),
    (["--method", "irv", "--ballots", "{toi}", "--seats", "2"], "use --method stv"),
    (["--method", "plurality", "--ballots", "{toi}", "--batch-elimination"], "--batch-elimination does not apply"),
    (["--method", "irv", "--ballots", "{toi}", "--decimals", "2"], "--decimals does not apply to --method irv"),
    (["--method", "borda", "--ballots", "{toi}", "--overvote", "skip"], "--overvote does not apply"),
    (["--method", "schulze", "--ballots", "{toi}", "--tiebreak", "backwards-then-order"], "needs earlier rounds"),
    (["--method", "stv", "--ballots", "{toi}"], "needs --seats"),
    (["--method", "majority", "--ballots", "{toi}"], "needs --seats"),
    (["--method", "coin", "--ballots", "{toi}"], "invalid choice: 'coin'"),
    (["--method", "irv", "--ballots", "{txt}"], "unknown ballot file format"),
    (["--method", "irv", "--ballots", "{missing}"], "no such file"),
    (["--method", "irv", "--ballots", "{toi}", "--max-skipped-ranks", "few"], "whole number or 'unlimited'"),
    (["--method", "irv", "--ballots", "{toi}", "--seed", "3"], "--seed applies to a random tie-break"),
])
def test_cli_bad_input_is_a_command_error(tmp_path, args, message):
    toi = tmp_path / "e.toi"
    toi.write_text("3: 1,2\n2: 2\n", encoding="utf-8")
    (tmp_path / "e.txt").write_text("3: 1\n", encoding="utf-8")
    paths = {"toi": toi, "txt": tmp_path / "e.txt", "missing": tmp_path / "none.csv"}
    with pytest.raises(CommandError, match=message):
        vote("tally", *[a.format(**paths) for a in args])


def test_cli_bad_input_exits_non_zero(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "gongzhi"
    done = subprocess.run([str(script), "vote", "tally", "--method", "irv", "--ballots", str(tmp_path / "x.toi")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "no such file" in done.stderr


def test_random_ballots_smoke_every_method():
    rng = random.Random(5)
    items = [(rng.randint(1, 3), rng.sample(NAMES, rng.randint(0, 5))) for _ in range(200)]
    ballots = boxed(items)
    for count in (plurality, approval, borda, schulze):
        assert len(count(ballots, 2).winners) == 2
    assert len(count_ranked(ballots, RankedRules(seats=2)).winners) == 2
    assert len(majority_election(ballots, 2).ranking) == 5

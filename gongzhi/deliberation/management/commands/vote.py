"""`gongzhi vote tally`: count a ballot file (PrefLib or cast-vote-record CSV) by a method and print the result,
round by round, as one JSON object. One verb per subcommand: add a subparser, a `_<verb>` method and its
entry in `handle`'s table."""

import argparse
import json
from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gongzhi.deliberation import ballot_files, voting

RANKED = {"irv", "stv"}
READING = {"plurality", "irv", "stv"}


def _limit(word: str):
    def parse(value: str):
        if value.lower() == word:
            return word
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number or '{word}', not {value!r}") from None
        if number < 0:
            raise argparse.ArgumentTypeError("must not be negative")
        return number
    return parse


# option → the methods it applies to (an option given to any other method is an error, not ignored)
APPLIES = {
    "overvote": READING, "max_skipped_ranks": READING, "max_rankings": READING, "exhaust_on_duplicate": READING,
    "threshold": RANKED, "non_integer_threshold": RANKED, "batch_elimination": RANKED,
    "minimum_vote_threshold": RANKED, "write_in_first": RANKED, "exclude": RANKED, "rctab_config": RANKED,
    "continue_until_two": {"irv"}, "decimals": {"stv"}, "one_winner_per_round": {"stv"},
    "further_round_factor": {"majority"},
}


class Command(BaseCommand):
    help = "Vote counting: `tally` counts a ballot file and prints winners, ranking and rounds as JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        tally = sub.add_parser(
            "tally", help="count a ballot file by a method; prints one JSON object",
            description="Count ballots from a PrefLib file (.soc/.soi/.toc/.toi) or a cast-vote-record CSV "
                        "(rank1…rankN, count; markers undervote / overvote / UWI) and print "
                        '{"winners", "ranking", "rounds": [{"tally", "elected", "eliminated", "exhausted", …}]}.')
        tally.add_argument("--method", required=True, choices=voting.METHODS,
                           help="majority = villagers' committee election (more than half of the ballots cast)")
        tally.add_argument("--ballots", required=True, type=Path, help="ballot file")
        tally.add_argument("--seats", type=int, help="seats to fill (default 1; stv needs it)")
        tally.add_argument("--candidates", type=Path,
                           help="CVR only: file with the declared candidates, one per line, in declared order "
                                "(default: the names found, alphabetically); other names are an error")
        tally.add_argument("--tiebreak", choices=voting.Tiebreak.NAMES,
                           help="how deciding ties are broken (default: backwards-then-order for irv/stv, "
                                "order for the others; backwards-* only for irv/stv)")
        tally.add_argument("--seed", type=int, help="seed of the random tie-break draw (default 0)")

        reading = tally.add_argument_group("reading ranked ballots (plurality, irv, stv)")
        reading.add_argument("--overvote", choices=voting.OVERVOTE_RULES,
                             help="a rank with several marks: exhaust the ballot, skip the rank, exhaust only if "
                                  "several marked candidates continue, or set the ballot aside while they do "
                                  "(default set-aside; an unnamed 'overvote' exhausts except with skip)")
        reading.add_argument("--max-skipped-ranks", type=_limit("unlimited"),
                             help="more consecutive skipped ranks than this exhaust the ballot (default unlimited)")
        reading.add_argument("--max-rankings", type=_limit("all"), help="ranks read (default all)")
        reading.add_argument("--exhaust-on-duplicate", action=argparse.BooleanOptionalAction,
                             help="a candidate ranked twice exhausts the ballot there")

        rounds = tally.add_argument_group("rounds (irv, stv)")
        rounds.add_argument("--rctab-config", type=Path,
                            help="take the rules, candidates and CVR labels from an RCTab contest configuration "
                                 "(JSON); options given here override it")
        rounds.add_argument("--threshold", choices=voting.THRESHOLD_RULES,
                            help="majority-of-continuing (recomputed each round; irv default), droop (fixed from "
                                 "round 1; stv default) or hare")
        rounds.add_argument("--non-integer-threshold", action=argparse.BooleanOptionalAction,
                            help="threshold = votes/(seats+1) + 10^-decimals instead of floor(…)+1")
        rounds.add_argument("--batch-elimination", action=argparse.BooleanOptionalAction,
                            help="eliminate together the lowest candidates whose votes sum to less than the next one's")
        rounds.add_argument("--minimum-vote-threshold", type=int,
                            help="eliminate together every candidate with fewer votes than this")
        rounds.add_argument("--write-in-first", action=argparse.BooleanOptionalAction,
                            help="eliminate the undeclared write-in first when it has votes (default on)")
        rounds.add_argument("--exclude", action="append", metavar="NAME", help="a withdrawn candidate (repeatable)")
        rounds.add_argument("--continue-until-two", action=argparse.BooleanOptionalAction,
                            help="irv: eliminate until two candidates remain, even past a majority")
        rounds.add_argument("--decimals", type=int, help="stv: decimal places of fractional transfers (default 4)")
        rounds.add_argument("--one-winner-per-round", action=argparse.BooleanOptionalAction,
                            help="stv: elect only the highest candidate over the threshold in a round")

        majority = tally.add_argument_group("majority (villagers' committee election)")
        majority.add_argument("--further-round-factor", type=int,
                              help="candidates in the further round per unfilled seat (default 2)")

    def handle(self, *args, verb, **options):
        verbs = {"tally": self._tally}
        try:
            verbs[verb](**options)
        except ValueError as error:
            raise CommandError(str(error)) from error

    def _tally(self, *, method, ballots, seats=None, candidates=None, tiebreak=None, seed=None, **options):
        for option, methods in APPLIES.items():
            if options.get(option) is not None and method not in methods:
                flag = "--" + option.replace("_", "-")
                raise CommandError(f"{flag} does not apply to --method {method} "
                                   f"(it applies to {', '.join(sorted(methods))})")
        if seats is not None and seats < 1:
            raise CommandError("--seats must be at least 1")
        if method == "irv" and seats not in (None, 1):
            raise CommandError("--method irv elects one candidate; use --method stv for several seats")
        if tiebreak is not None and tiebreak.startswith("backwards") and method not in RANKED:
            raise CommandError(f"--tiebreak {tiebreak} needs earlier rounds; --method {method} has one round "
                               f"(use order or random)")

        config = ballot_files.read_rctab_config(options["rctab_config"]) if options.get("rctab_config") else None
        if config is not None and config.method != method:
            raise CommandError(f"{options['rctab_config']} describes an {config.method} count, not {method}")
        declared = self._declared(candidates) if candidates is not None else (config.candidates if config else None)
        read = {"candidates": declared} if declared is not None else {}
        if config is not None:
            read.update(labels=config.labels, aliases=config.aliases)
        box = ballot_files.read_ballots(ballots, **read)

        breaker = voting.Tiebreak.named(tiebreak or ("backwards-then-order" if method in RANKED else "order"),
                                        seed or 0)
        if config is not None and tiebreak is None:
            breaker = replace(config.rules.tiebreak, seed=seed if seed is not None else config.rules.tiebreak.seed)
        if seed is not None and breaker.fallback != "random":
            raise CommandError(f"--seed applies to a random tie-break, not {breaker.name}")
        if method in RANKED:
            result = self._ranked(method, box, seats, breaker, config, options)
        elif method == "plurality":
            result = voting.plurality(box, seats or 1, reading=self._reading(voting.BallotReading(), options),
                                      tiebreak=breaker)
        elif method == "majority":
            if seats is None:
                raise CommandError("--method majority needs --seats (the committee's size)")
            factor = options.get("further_round_factor")
            result = voting.majority_election(box, seats, tiebreak=breaker,
                                              further_round_factor=2 if factor is None else factor)
        else:
            count = {"approval": voting.approval, "schulze": voting.schulze, "borda": voting.borda}[method]
            result = count(box, seats or 1, tiebreak=breaker)
        self.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))

    def _declared(self, path: Path) -> list[str]:
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except OSError as error:
            raise CommandError(f"{path}: cannot read the candidates ({error.strerror})") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path}: not UTF-8 text") from error
        names = [line.strip() for line in lines if line.strip()]
        if not names:
            raise CommandError(f"{path}: no candidate names")
        return names

    def _reading(self, base: voting.BallotReading, options: dict) -> voting.BallotReading:
        changes = {}
        if options.get("overvote") is not None:
            changes["overvote"] = options["overvote"]
        if options.get("max_skipped_ranks") is not None:
            value = options["max_skipped_ranks"]
            changes["max_skipped_ranks"] = None if value == "unlimited" else value
        if options.get("max_rankings") is not None:
            value = options["max_rankings"]
            changes["max_rankings"] = None if value == "all" else value
        if options.get("exhaust_on_duplicate") is not None:
            changes["exhaust_on_duplicate"] = options["exhaust_on_duplicate"]
        return replace(base, **changes)

    def _ranked(self, method, box, seats, breaker, config, options) -> voting.TallyResult:
        rules = config.rules if config is not None else voting.RankedRules()
        if seats is not None:
            rules = replace(rules, seats=seats)
        elif method == "stv" and config is None:
            raise CommandError("--method stv needs --seats (or an --rctab-config naming the number of winners)")
        changes = {"reading": self._reading(rules.reading, options), "tiebreak": breaker}
        for option, field in (("threshold", "threshold"), ("non_integer_threshold", "non_integer_threshold"),
                              ("batch_elimination", "batch_elimination"),
                              ("minimum_vote_threshold", "minimum_vote_threshold"),
                              ("write_in_first", "eliminate_write_in_first"),
                              ("continue_until_two", "continue_until_two"), ("decimals", "decimals")):
            if options.get(option) is not None:
                changes[field] = options[option]
        if options.get("one_winner_per_round") is not None:
            changes["multiple_winners_per_round"] = not options["one_winner_per_round"]
        if options.get("exclude"):
            changes["excluded"] = rules.excluded | {name.strip() for name in options["exclude"]}
        rules = replace(rules, **changes)
        return voting.count_ranked(box, rules, method=method)

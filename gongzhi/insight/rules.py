"""Pure rules of insight's early warnings: how serious a warning is (plain data in, plain data out)."""

HIGH_RATIO = 3.0  # a hot spot at three times its expected count or more
HIGH_RISING_WEEKS = 4  # a rise of four weeks running or more
HIGH_REOPENS = 3  # a building whose demands were reopened three times or more


def warning_level(kind: str, evidence: dict) -> str:
    """"high" or "medium". High: a hot spot at HIGH_RATIO times its expected count or more, a category rising
    HIGH_RISING_WEEKS weeks running or more, or a building with HIGH_REOPENS reopened demands or more: the
    warnings the home page counts as urgent. Everything else a rule raised is "medium"."""
    if kind == "repeated_reopen":
        return "high" if (evidence.get("reopened") or 0) >= HIGH_REOPENS else "medium"
    if (evidence.get("ratio") or 0) >= HIGH_RATIO:
        return "high"
    weeks = evidence.get("rising_for") or max(len(evidence.get("weekly") or []) - 1, 0)
    return "high" if weeks >= HIGH_RISING_WEEKS else "medium"

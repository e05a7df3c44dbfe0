"""Who may do what with case files, registered with core.policy for every "cases." action.

- A case file is public where its topic is public (the topic is put to deliberation in the open); its parts
  show only what each is public for: demands as counts, a map of grids and scrubbed samples; ballots as the
  published list; no reporter, phone or name.
- Officers of the place (those who may moderate its topics) see a case whose topic is not public.
- Residents who raised the problem or supported the topic answer the verdict (services.may_answer).
- A milestone's own unit reports progress with photos (duties.report_progress)."""

from gongzhi.core import policy


def rule(user, action: str, obj) -> bool:
    if action == "cases.view":
        if obj is None:
            return True
        topic = getattr(obj, "topic", None)
        if topic is not None and topic.is_public:
            return True
        return topic is not None and policy.can(user, "deliberation.moderate", topic)
    if action == "cases.list":
        return True
    return False

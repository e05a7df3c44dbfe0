"""Deliberation (云协商 and formal decisions): bodies, topics, opinion maps, motions, ballots,
procedures such as 四议两公开, meetings and public disclosure."""

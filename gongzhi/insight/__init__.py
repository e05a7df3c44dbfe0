"""Insight: reads demands together: classifier, similar demands, hot spots, warnings, agenda."""

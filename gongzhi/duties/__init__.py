"""Duties: power and responsibility lists, decisions under 三重一大, goals → tasks → responsibility,
evaluation and accountability, and matching needs with resources (三单制)."""

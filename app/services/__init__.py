"""The rules, in one place: lifetimes, scope checks, reach (ownership and
tenant isolation) and audit recording. The OAuth endpoints, the admin API,
the dashboard and the operator CLI call these; none re-implements a rule.

Import order runs one way: routes -> oauth -> services -> models.
"""

"""Evidence a report shows beside the findings, gathered from outside the migrations: who wrote
and reviewed each migration (git), the project's integration tests, and the run's metadata.

Collectors live here, renderers in linter/report: `check` gathers evidence without importing
anything that renders it.
"""

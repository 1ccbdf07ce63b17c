"""The on-call REST API, under /api/v1/oncall/ (included by tscc.urls)."""

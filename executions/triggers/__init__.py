"""Triggers and limits (issue 16): schedules, webhooks, "run after" rules, concurrency
limits with their queue, and workflow-level retries. See docs/triggers.md."""

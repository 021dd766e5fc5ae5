"""Triggers and limits use cases: one function per write, each taking the acting `Actor`
and `Origin`, checking the role (editors configure triggers; admins the team's limit),
writing in one transaction with its audit entry, and leaving tasks to the door."""

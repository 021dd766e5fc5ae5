"""Live events: what carries an execution's stored events to people watching.

`filters` (pure) decides which events a subscriber wants; `streams` reads stored
events for replay and gap filling; `consumers` is the WebSocket endpoint
`/ws/executions/<id>/`; `progress` tells the team stream how far executions got;
`retention` prunes old events. docs/executions.md, "Events", has the whole picture.
"""

"""`/ws/executions/<id>/` through the real ASGI stack and the real Redis channel layer:
access, origins, order, replay, the live seam, gaps, filters, revocation and slow clients."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from asgiref.sync import sync_to_async

from executions.models import Execution
from symphony_site.actors import Actor, Origin
from symphony_site.streaming import FLOW_SCOPE_KEY
from teams.models import Membership
from teams.services import member_remove, token_create, token_revoke

from .conftest import (
    EVIL,
    ORIGIN,
    aemit,
    astored,
    connect,
    emit,
    logs,
    make_execution,
    refusal,
    run,
    session_cookie,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_stray_connections")]


def path(execution: Execution, query: str = "") -> str:
    return f"/ws/executions/{execution.pk}/" + (f"?{query}" if query else "")


def node_events(node_id: str, count: int) -> list:
    return [("node.progress", node_id, {"fraction": index / count, "message": f"step {index}"})
            for index in range(count)]


# -- who may listen ------------------------------------------------------------------------


def test_anonymous_is_refused_with_4401(personas) -> None:
    execution = make_execution(personas)
    assert run(refusal(path(execution), [ORIGIN])) == (True, 4401, "unauthenticated")


def test_another_teams_execution_is_refused_exactly_like_a_missing_one(personas) -> None:
    execution = make_execution(personas)
    outsider = session_cookie(personas.users["outsider"])
    other_team = run(refusal(path(execution), [ORIGIN, outsider]))
    missing = run(refusal(f"/ws/executions/{uuid.uuid4()}/", [ORIGIN, outsider]))
    assert other_team == missing == (True, 4404, "not_found")


@pytest.mark.parametrize("who", ["owner", "admin", "editor", "operator", "viewer"])
def test_every_member_role_may_listen(personas, who) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users[who])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        subscribed = await client.control("subscribed")
        await client.leave()
        return client.accepted, subscribed

    assert run(scenario()) == (True, {"type": "subscribed", "execution_id": str(execution.pk),
                                      "state": "running", "after_seq": None, "last_seq": 0})


# -- origins: the four cases of the issue, and the accepted ones -----------------------------


def token_for(personas, who: str = "viewer") -> str:
    _, key = token_create(actor=Actor.of(personas.users[who]), origin=Origin.command(), name=f"ws-{who}")
    return key


def test_a_token_connection_without_an_origin_is_accepted(personas) -> None:
    execution = make_execution(personas)
    key = token_for(personas)

    async def scenario():
        client = await connect(path(execution, f"token={key}"), [])
        subscribed = await client.control("subscribed")
        await client.leave()
        return client.accepted, subscribed["execution_id"]

    assert run(scenario()) == (True, str(execution.pk))


def test_a_token_in_the_authorization_header_without_an_origin_is_accepted(personas) -> None:
    execution = make_execution(personas)
    key = token_for(personas)

    async def scenario():
        client = await connect(path(execution), [(b"authorization", f"Token {key}".encode())])
        subscribed = await client.control("subscribed")
        await client.leave()
        return client.accepted, subscribed["type"]

    assert run(scenario()) == (True, "subscribed")


def test_a_cookie_connection_without_an_origin_is_refused(personas) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])
    accepted, _code, _reason = run(refusal(path(execution), [cookie]))
    assert accepted is False


def test_a_token_connection_with_a_disallowed_origin_is_refused(personas) -> None:
    execution = make_execution(personas)
    key = token_for(personas)
    accepted, _code, _reason = run(refusal(path(execution, f"token={key}"), [EVIL]))
    assert accepted is False


def test_a_cookie_connection_with_a_disallowed_origin_is_refused(personas) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])
    accepted, _code, _reason = run(refusal(path(execution), [EVIL, cookie]))
    assert accepted is False


def test_a_token_connection_with_an_allowed_origin_is_accepted(personas) -> None:
    execution = make_execution(personas)
    key = token_for(personas)

    async def scenario():
        client = await connect(path(execution, f"token={key}"), [ORIGIN])
        subscribed = await client.control("subscribed")
        await client.leave()
        return subscribed["type"]

    assert run(scenario()) == "subscribed"


def test_a_forged_token_is_anonymous_even_with_a_session_cookie(personas) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])
    assert run(refusal(path(execution, "token=sym_forged"), [ORIGIN, cookie])) == (True, 4401, "unauthenticated")


def test_an_anonymous_connection_without_an_origin_is_refused_in_the_handshake(personas) -> None:
    execution = make_execution(personas)
    accepted, _code, _reason = run(refusal(path(execution), []))
    assert accepted is False


# -- order, live, replay ------------------------------------------------------------------


def test_live_events_arrive_in_order_with_the_spec_shape(personas) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        await aemit(execution.pk, [("node.queued", "name", {}), ("node.started", "name", {"attempt": 1})])
        await aemit(execution.pk, [("node.completed", "name", {"attempt": 1, "duration_ms": 1.5})])
        await aemit(execution.pk, [("execution.state_changed", None, {"from": "running", "to": "paused"})])
        received = await client.events(4)
        quiet = await client.nothing_more()
        await client.leave()
        return received, quiet

    received, quiet = run(scenario())
    assert received == run(astored(execution.pk))
    assert [(event["seq"], event["type"], event.get("node_id")) for event in received] == [
        (1, "node.queued", "name"), (2, "node.started", "name"), (3, "node.completed", "name"),
        (4, "execution.state_changed", None)]
    assert set(received[0]) == {"seq", "type", "execution_id", "node_id", "at", "data"}
    assert set(received[3]) == {"seq", "type", "execution_id", "at", "data"}
    assert received[3]["execution_id"] == str(execution.pk)
    assert received[3]["at"].endswith("Z")
    assert quiet is True


def test_without_after_seq_only_what_happens_from_now_on_is_sent(personas) -> None:
    execution = make_execution(personas)
    emit(execution.pk, node_events("greet", 3))
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        subscribed = await client.control("subscribed")
        caught_up = await client.control("caught_up")
        await aemit(execution.pk, [("node.completed", "greet", {})])
        received = await client.events(1)
        await client.leave()
        return subscribed["last_seq"], caught_up, [event["seq"] for event in received]

    assert run(scenario()) == (3, {"type": "caught_up", "last_seq": 3}, [4])


def test_after_seq_replays_what_was_missed_then_continues_live(personas) -> None:
    execution = make_execution(personas)
    emit(execution.pk, node_events("greet", 10))
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution, "after_seq=4"), [ORIGIN, cookie])
        replayed = await client.events(6)
        caught_up = await client.control("caught_up")
        await aemit(execution.pk, node_events("greet", 2))
        live = await client.events(2)
        quiet = await client.nothing_more()
        await client.leave()
        return replayed, caught_up, live, quiet

    replayed, caught_up, live, quiet = run(scenario())
    everything = run(astored(execution.pk))
    assert replayed == everything[4:10]
    assert caught_up == {"type": "caught_up", "last_seq": 10}
    assert live == everything[10:12]
    assert quiet is True


def test_after_seq_past_the_end_waits_for_new_events(personas) -> None:
    execution = make_execution(personas)
    emit(execution.pk, node_events("greet", 2))
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution, "after_seq=99"), [ORIGIN, cookie])
        caught_up = await client.control("caught_up")
        await aemit(execution.pk, node_events("greet", 1))
        live = await client.events(1)
        await client.leave()
        return caught_up, [event["seq"] for event in live]

    assert run(scenario()) == ({"type": "caught_up", "last_seq": 2}, [3])


def test_replay_longer_than_a_page_and_the_queue_arrives_whole(personas, settings) -> None:
    settings.WEBSOCKET_REPLAY_PAGE = 7
    settings.WEBSOCKET_QUEUE_EVENTS = 10
    execution = make_execution(personas)
    for _ in range(5):
        emit(execution.pk, node_events("greet", 20))
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution, "after_seq=0"), [ORIGIN, cookie])
        received = await client.events(100)
        caught_up = await client.control("caught_up")
        await client.leave()
        return [event["seq"] for event in received], caught_up

    assert run(scenario()) == (list(range(1, 101)), {"type": "caught_up", "last_seq": 100})


def test_a_lost_message_is_filled_from_the_database_before_the_next_one(personas) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        await aemit(execution.pk, node_events("greet", 2))
        await aemit(execution.pk, node_events("name", 3), publish=False)  # seqs 3-5, never published
        await aemit(execution.pk, [("node.completed", "greet", {})])  # seq 6 reveals the gap
        received = await client.events(6)
        await client.leave()
        return received

    assert run(scenario()) == run(astored(execution.pk))


def test_group_messages_reach_the_client_without_a_hop_to_the_sync_thread(personas, monkeypatch) -> None:
    """Channels' `dispatch` awaits `aclose_old_connections()` before every handler: one hop to the
    process's thread-sensitive executor per message and connection (200 watchers, 200 hops an
    event). Group messages skip it; the handlers' own database reads still close stale
    connections through `database_sync_to_async`."""
    import channels.consumer

    hops: list[int] = []
    original = channels.consumer.aclose_old_connections

    async def counted() -> None:
        hops.append(1)
        await original()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        connected_hops = len(hops)
        for index in range(3):
            await aemit(execution.pk, [("log", "name", {"level": "info", "message": f"line {index}"})])
        received = await client.events(3)
        delivered_hops = len(hops)
        await client.leave()  # the disconnect goes through Channels' dispatch, with its hop
        return connected_hops, received, delivered_hops

    connected_hops, received, delivered_hops = run(scenario())
    assert [event["seq"] for event in received] == [1, 2, 3]
    assert connected_hops >= 1 and delivered_hops == connected_hops  # none for the three group messages


def test_batches_arriving_out_of_order_are_sent_in_order_once(personas) -> None:
    """Two workers publish independently: a later transaction's batch can overtake."""
    from symphony_site.events import execution_group, publish_batch_to_group_on_commit

    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        await aemit(execution.pk, node_events("greet", 3), publish=False)  # seqs 1-3, held back
        await aemit(execution.pk, node_events("greet", 2))  # seqs 4-5 arrive first
        early = await client.events(5)
        everything = await astored(execution.pk)
        # The held-back batch arrives late: nothing is sent twice.
        await sync_to_async(publish_batch_to_group_on_commit)(execution_group(execution.pk), everything[:3])
        quiet = await client.nothing_more(0.5)
        await client.leave()
        return early, everything, quiet

    early, everything, quiet = run(scenario())
    assert early == everything
    assert quiet is True


def test_the_periodic_recheck_delivers_an_event_whose_message_was_lost(personas, settings) -> None:
    settings.WEBSOCKET_RECHECK_S = 0.2
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        await aemit(execution.pk, [("execution.completed", None, {})], publish=False)
        received = await client.events(1, timeout=5)
        await client.leave()
        return received

    assert run(scenario()) == run(astored(execution.pk))


# -- filters ---------------------------------------------------------------------------------


def filtered(personas, execution: Execution, query: str, expected_count: int) -> list[dict]:
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution, query), [ORIGIN, cookie])
        replayed = await client.events(expected_count)
        await client.control("caught_up")
        quiet = await client.nothing_more()
        await client.leave()
        assert quiet is True
        return replayed

    return run(scenario())


def mixed(execution: Execution) -> None:
    emit(execution.pk, [("node.started", "greet", {}), *logs("greet", "debug", "info", "warning", "error"),
                        ("node.completed", "greet", {}), ("node.started", "out", {}),
                        *logs("out", "debug", "error"), ("execution.completed", None, {})])


def test_filter_by_event_types(personas) -> None:
    execution = make_execution(personas)
    mixed(execution)
    received = filtered(personas, execution, "after_seq=0&types=node.started,execution.completed", 3)
    assert [(event["seq"], event["type"]) for event in received] == [
        (1, "node.started"), (7, "node.started"), (10, "execution.completed")]


def test_filter_by_node_keeps_execution_level_events(personas) -> None:
    execution = make_execution(personas)
    mixed(execution)
    received = filtered(personas, execution, "after_seq=0&nodes=out", 4)
    assert [(event["seq"], event.get("node_id")) for event in received] == [
        (7, "out"), (8, "out"), (9, "out"), (10, None)]


def test_filter_by_minimum_log_level_leaves_other_types_alone(personas) -> None:
    execution = make_execution(personas)
    mixed(execution)
    received = filtered(personas, execution, "after_seq=0&min_level=warning", 7)
    assert [(event["seq"], event["type"], event["data"].get("level")) for event in received] == [
        (1, "node.started", None), (4, "log", "warning"), (5, "log", "error"), (6, "node.completed", None),
        (7, "node.started", None), (9, "log", "error"), (10, "execution.completed", None)]


def test_filters_combine_and_apply_to_live_events_too(personas) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution, "types=log&nodes=greet&min_level=info"), [ORIGIN, cookie])
        await client.control("caught_up")
        await aemit(execution.pk, [*logs("greet", "debug", "info"), *logs("out", "error"),
                                   ("node.completed", "greet", {}), *logs("greet", "error")])
        received = await client.events(2)
        quiet = await client.nothing_more()
        await client.leave()
        return [(event["seq"], event["data"]["level"]) for event in received], quiet

    assert run(scenario()) == ([(2, "info"), (5, "error")], True)


@pytest.mark.parametrize(("query", "reason"), [
    ("types=node.exploded", "types: Unknown event types: node.exploded."),
    ("min_level=loud", "min_level: min_level is one of debug, info, warning, error."),
    ("after_seq=-1", "after_seq: after_seq is a non-negative integer (the last seq you saw)."),
    ("after_seq=abc", "after_seq: after_seq is a non-negative integer (the last seq you saw)."),
])
def test_bad_parameters_are_refused_with_4400_naming_the_parameter(personas, query, reason) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])
    accepted, code, got = run(refusal(path(execution, query), [ORIGIN, cookie]))
    assert (accepted, code) == (True, 4400)
    assert got.startswith(reason.split(" Known")[0])


# -- access that ends while connected ----------------------------------------------------------


def test_a_removed_member_is_closed_at_once(personas) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])
    remove = sync_to_async(member_remove)

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        await remove(actor=Actor.of(personas.users["owner"]), origin=Origin.command(), team=personas.team,
                     user=personas.users["viewer"])
        ended = await client.closed()
        await client.leave()
        return ended

    assert run(scenario()) == (4403, "membership_revoked")


def test_another_members_removal_leaves_the_stream_open(personas) -> None:
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])
    remove = sync_to_async(member_remove)

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        await remove(actor=Actor.of(personas.users["owner"]), origin=Origin.command(), team=personas.team,
                     user=personas.users["editor"])
        await aemit(execution.pk, [("node.queued", "name", {})])
        received = await client.events(1)
        await client.leave()
        return [event["seq"] for event in received]

    assert run(scenario()) == [1]


def test_a_membership_removed_without_a_message_is_caught_by_the_periodic_recheck(personas, settings) -> None:
    settings.WEBSOCKET_RECHECK_S = 0.2
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        await sync_to_async(Membership.objects.filter(user=personas.users["viewer"]).delete)()
        ended = await client.closed(timeout=5)
        await client.leave()
        return ended

    assert run(scenario()) == (4403, "membership_revoked")


def test_revoking_the_token_closes_the_connections_it_opened(personas) -> None:
    from teams.models import ApiToken

    execution = make_execution(personas)
    key = token_for(personas)
    cookie = session_cookie(personas.users["viewer"])
    revoke = sync_to_async(token_revoke)

    async def scenario():
        by_token = await connect(path(execution, f"token={key}"), [])
        by_cookie = await connect(path(execution), [ORIGIN, cookie])
        await by_token.control("caught_up")
        await by_cookie.control("caught_up")
        token = await sync_to_async(ApiToken.objects.get)(user=personas.users["viewer"])
        await revoke(actor=Actor.of(personas.users["viewer"]), origin=Origin.command(), token=token)
        ended = await by_token.closed()
        await aemit(execution.pk, [("node.queued", "name", {})])
        still = await by_cookie.events(1)
        await by_cookie.leave()
        await by_token.leave()
        return ended, [event["seq"] for event in still]

    assert run(scenario()) == ((4401, "token_revoked"), [1])


# -- a client too slow to keep up ----------------------------------------------------------------


class StalledTransport:
    """Stands for daphne's transport flow: the test decides when the socket takes more."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()

    def attach(self) -> None:
        pass


def with_transport(transport: StalledTransport):
    from symphony_site.asgi import application

    async def app(scope, receive, send):
        return await application({**scope, FLOW_SCOPE_KEY: transport}, receive, send)

    return app


def test_a_client_too_slow_to_keep_up_is_closed_with_its_last_seq(personas, settings) -> None:
    settings.WEBSOCKET_QUEUE_EVENTS = 20
    settings.WEBSOCKET_STALL_S = 0.5
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        transport = StalledTransport()
        client = await connect(path(execution), [ORIGIN, cookie], app=with_transport(transport))
        await client.control("caught_up")
        await aemit(execution.pk, node_events("greet", 3))
        first = await client.events(3)
        transport.writable.clear()  # the client stops reading: the socket takes nothing more
        for _ in range(5):
            await aemit(execution.pk, node_events("greet", 10))
        ended = await client.closed()
        await client.leave()
        return [event["seq"] for event in first], ended

    first, (code, reason) = run(scenario())
    assert first == [1, 2, 3]
    assert code == 4429
    assert json.loads(reason) == {"code": "too_slow", "last_seq": 3}


def test_a_burst_bigger_than_the_queue_does_not_close_a_client_that_reads(personas, settings) -> None:
    settings.WEBSOCKET_QUEUE_EVENTS = 10
    settings.WEBSOCKET_STALL_S = 0.5
    execution = make_execution(personas)
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        client = await connect(path(execution), [ORIGIN, cookie])
        await client.control("caught_up")
        await aemit(execution.pk, node_events("greet", 150))  # one transaction, 15 queues' worth
        await aemit(execution.pk, node_events("greet", 15))
        received = await client.events(165)
        quiet = await client.nothing_more()
        await client.leave()
        return [event["seq"] for event in received], quiet, client.close_code

    assert run(scenario()) == (list(range(1, 166)), True, None)

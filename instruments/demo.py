"""Demo data built on the local embedding model: workflows and templates that run offline
right after `make run` (no provider, no key, no network). Idempotent.

`seed_demo` calls `seed_instruments(seeded)`; everything goes through the services, so
the demo's audit log shows the workflows and publications.

* Route support tickets by meaning — `route` picks billing, technical or shipping from
  example tickets (or `human` below the threshold); conditional edges send the ticket
  down that branch and a merge gathers the branches.
* Deduplicate near-identical records — `deduplicate` keeps the first of each group of
  records whose descriptions mean the same.
* Answer from the closest FAQ — `similarity` finds the FAQ question closest to the
  user's, and `select` reads its answer.
"""

from __future__ import annotations

import copy
from typing import Any

from symphony_site.actors import Actor, Origin
from templates_app import services as template_services
from templates_app.models import Template
from workflows import samples, services
from workflows.models import Workflow

TICKET_ROUTES = {
    "billing": ["I was charged twice for my subscription", "Where can I download my invoice?",
                "I want a refund for last month", "Update the credit card on my account"],
    "technical": ["The app crashes when I open it", "I get an error 500 when saving",
                  "The page does not load on my phone", "Sync stopped working after the update"],
    "shipping": ["When will my order arrive?", "My package was delivered to the wrong address",
                 "The parcel arrived damaged", "Can I change the delivery address of my order?"],
}
FAQ = [
    {"question": "How do I reset my password?",
     "answer": "Use 'Forgot password' on the sign-in page; the link is valid for one hour."},
    {"question": "Where can I find my invoices?",
     "answer": "Billing → Invoices lists every invoice as a PDF."},
    {"question": "How do I cancel my subscription?",
     "answer": "Billing → Plan → Cancel; you keep access until the end of the period."},
    {"question": "Can I export my data?",
     "answer": "Settings → Export creates a ZIP of everything, emailed within the hour."},
]
RECORDS = [
    {"id": 1, "description": "Acme Corp, 12 Main Street, Springfield"},
    {"id": 2, "description": "Blue Widgets Ltd, 4 Harbour Road, Dover"},
    {"id": 3, "description": "ACME Corp., 12 Main St., Springfield"},
    {"id": 4, "description": "Green Grocers, 9 Market Square, York"},
    {"id": 5, "description": "Blue Widgets Limited, 4 Harbour Rd, Dover"},
]


def _with_metadata(document: dict[str, Any], description: str, category: str,
                   tags: list[str]) -> dict[str, Any]:
    document["description"] = description
    document["metadata"] = {"tags": tags, "category": category}
    return document


def route_tickets(threshold: Any = 0.25) -> dict[str, Any]:
    queues = [*TICKET_ROUTES, "human"]
    nodes: list[dict[str, Any]] = [
        samples.node_input("ticket", "string", name="Ticket"),
        samples.node_operator("triage", "route", {"routes": TICKET_ROUTES, "threshold": threshold,
                                                  "fallback": "human"}, name="Route by meaning"),
    ]
    edges = [samples.data_edge("e_in", "ticket", "value", "triage", "text")]
    for queue in queues:
        nodes.append(samples.node_operator(
            f"to_{queue}", "template", {"template": f"[{queue}] {{{{ inputs.variables }}}}"},
            name=f"Queue: {queue}"))
        edges.append(samples.conditional_edge(f"c_{queue}", "triage", f"to_{queue}",
                                              f'inputs.route == "{queue}"', label=queue))
        edges.append(samples.data_edge(f"d_{queue}", "triage", "value", f"to_{queue}",
                                       "variables"))
        edges.append(samples.data_edge(f"m_{queue}", f"to_{queue}", "text", "gather", "value"))
    nodes += [samples.node_control("gather", "merge", name="Gather"),
              samples.node_output("routed", "string", name="Routed ticket")]
    edges.append(samples.data_edge("e_out", "gather", "value", "routed", "value"))
    return _with_metadata(
        samples.workflow("Route support tickets by meaning", nodes, edges),
        "Sends each ticket to billing, technical or shipping by what it means (examples per "
        "queue, the local embedding model), or to a person when nothing fits.",
        "customer-support", ["support", "routing", "embeddings", "offline"])


def deduplicate_records(threshold: Any = 0.85, field: Any = "description") -> dict[str, Any]:
    nodes = [
        {**samples.node_input("records", "array", name="Records"), "required": False,
         "default": RECORDS},
        samples.node_operator("dedupe", "deduplicate", {"threshold": threshold, "field": field},
                              name="Drop near-duplicates"),
        samples.node_output("unique", "array", name="Unique records"),
        samples.node_output("dropped", "integer", name="Duplicates dropped"),
    ]
    edges = [samples.data_edge("e1", "records", "value", "dedupe", "items"),
             samples.data_edge("e2", "dedupe", "items", "unique", "value"),
             samples.data_edge("e3", "dedupe", "duplicates", "dropped", "value")]
    return _with_metadata(
        samples.workflow("Deduplicate near-identical records", nodes, edges),
        "Keeps one of each group of records that say the same thing in other words "
        "(abbreviations, case, punctuation), with the local embedding model.",
        "data", ["data-cleaning", "deduplication", "embeddings", "offline"])


def closest_faq(field: Any = "question") -> dict[str, Any]:
    nodes = [
        samples.node_input("question", "string", name="Question"),
        {**samples.node_input("faq", "array", name="FAQ"), "required": False, "default": FAQ},
        samples.node_operator("match", "similarity", {"field": field}, name="Closest question"),
        samples.node_operator("answer", "select", {"path": "item.answer"}, name="Its answer"),
        samples.node_operator("confidence", "select", {"path": "score"}, name="Its score"),
        samples.node_output("reply", "any", name="Answer"),
        samples.node_output("score", "any", name="Similarity"),
    ]
    edges = [samples.data_edge("e1", "question", "value", "match", "a"),
             samples.data_edge("e2", "faq", "value", "match", "b"),
             samples.data_edge("e3", "match", "best", "answer", "value"),
             samples.data_edge("e4", "match", "best", "confidence", "value"),
             samples.data_edge("e5", "answer", "value", "reply", "value"),
             samples.data_edge("e6", "confidence", "value", "score", "value")]
    return _with_metadata(
        samples.workflow("Answer from the closest FAQ", nodes, edges),
        "Finds the FAQ entry whose question means the same as the user's and answers with it "
        "(the local embedding model; no generation, no network).",
        "customer-support", ["faq", "search", "embeddings", "offline"])


DEMO_WORKFLOWS = [route_tickets, deduplicate_records, closest_faq]


def _threshold(name: str, default: float, description: str) -> dict[str, Any]:
    return {"name": name, "display_name": "Threshold", "type": "float", "default": default,
            "description": description, "constraints": {"min_value": 0, "max_value": 1},
            "ui": {"widget": "slider", "group": "Matching", "order": 10}}


def _field(default: str) -> dict[str, Any]:
    return {"name": "field", "display_name": "Text field", "type": "string", "default": default,
            "description": "The dotted path to each item's text.",
            "constraints": {"min_length": 1, "max_length": 200},
            "ui": {"widget": "text", "group": "Matching", "order": 20}}


def template_entries() -> list[dict[str, Any]]:
    """Marketplace entries for the three demos, their settings as parameters."""
    entries = [
        ("route-tickets-by-meaning", route_tickets("{{ params.threshold }}"),
         [_threshold("threshold", 0.25, "Below this similarity a ticket goes to a person.")]),
        ("deduplicate-records", deduplicate_records("{{ params.threshold }}", "{{ params.field }}"),
         [_threshold("threshold", 0.85, "Records at least this similar are duplicates."),
          _field("description")]),
        ("closest-faq-answer", closest_faq("{{ params.field }}"), [_field("question")]),
    ]
    return [{"slug": slug, "document": document, "parameters": parameters}
            for slug, document, parameters in entries]


def seed_instruments(seeded: dict[str, Any]) -> None:
    owner, team = Actor.of(seeded["owner"]), seeded["demo"]
    origin = Origin.command()
    existing = set(Workflow.objects.filter(team=team).values_list("name", flat=True))
    for build in DEMO_WORKFLOWS:
        document = build()
        if document["name"] not in existing:
            services.workflow_create(actor=owner, origin=origin, team=team, document=document,
                                     change_message="Demo data (local model)")
    for entry in template_entries():
        if Template.objects.filter(slug=entry["slug"]).exists():
            continue
        document = copy.deepcopy(entry["document"])
        template_services.template_publish(
            actor=owner, origin=origin, team=team, name=document["name"],
            description=document["description"], category=document["metadata"]["category"],
            tags=document["metadata"]["tags"], visibility="public", slug=entry["slug"],
            version={"version": "1.0.0", "document": document, "parameters": entry["parameters"],
                     "examples": [{"name": "Offline defaults", "parameters": {}}],
                     "changelog": "First version."})

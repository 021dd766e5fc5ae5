"""The demo catalog: real, useful public templates across categories.

Each entry is marketplace metadata plus a version body built by one of the
shapes in `templates_app.catalog.shapes`. `tests/templates_app/test_catalog.py`
instantiates every entry with each of its examples and validates the result
against the built-in node types.
"""

from __future__ import annotations

from typing import Any

from templates_app.catalog.shapes import (
    approval,
    classify_and_route,
    list_cleanup,
    prompt_chain,
    report_to_webhook,
    retrieval_answer,
    text_parameter,
    two_model_review,
)

ECHO = {"model": "local/echo"}


def _entry(slug: str, *, verified: bool = False, featured: bool = False, body: dict[str, Any]) -> dict[str, Any]:
    document = body["document"]
    return {"slug": slug, "name": document["name"], "description": document["description"],
            "category": document["metadata"]["category"], "tags": document["metadata"]["tags"],
            "verified": verified, "featured": featured, "version": {"version": "1.0.0", **body,
                                                                    "changelog": "First version."}}


def _tone(default: str = "friendly", order: int = 20) -> dict[str, Any]:
    return {"name": "tone", "display_name": "Tone", "type": "enum", "default": default,
            "choices": [{"value": "friendly", "label": "Friendly"}, {"value": "formal", "label": "Formal"},
                        {"value": "neutral", "label": "Neutral"}, {"value": "empathetic", "label": "Empathetic"}],
            "ui": {"widget": "radio", "group": "Style", "order": order}}


def _language(name: str = "language", display: str = "Language", default: str = "en", order: int = 21,
              required: bool = False) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "name": name, "display_name": display, "type": "string",
        "description": "A language code such as en, fr, de, pt-BR or zh-Hans.",
        "constraints": {"max_length": 10, "validators": ["language_code"]},
        "ui": {"widget": "text", "placeholder": "en", "group": "Style", "order": order}}
    if required:
        definition["required"] = True
    else:
        definition["default"] = default
    return definition


def _sentences(default: int = 3, maximum: int = 12) -> dict[str, Any]:
    return {"name": "sentences", "display_name": "Length (sentences)", "type": "integer", "default": default,
            "constraints": {"min_value": 1, "max_value": maximum}, "ui": {"widget": "slider", "group": "Style",
                                                                          "order": 20}}


def _labels(default: list[str]) -> dict[str, Any]:
    return {"name": "labels", "display_name": "Labels", "type": "array",
            "items": {"type": "string", "constraints": {"min_length": 1, "max_length": 40}},
            "default": default, "constraints": {"min_length": 2, "max_length": 30, "validators": ["unique_items"]},
            "description": "The categories to choose from.", "ui": {"widget": "tags", "group": "Labels", "order": 5}}


ENTRIES: list[dict[str, Any]] = [
    # ------------------------------------------------------------ customer support
    _entry("triage-support-tickets", verified=True, featured=True, body=classify_and_route(
        name="Triage support tickets", category="customer-support", tags=["support", "triage", "classification"],
        description="Label each ticket (billing, bug, how-to, account…), draft a reply when the label is "
                    "certain, and hand uncertain tickets to a person.",
        input_name="Ticket",
        prompt="Labels: {{ params.labels }}\nTicket subject: {{ inputs.variables.subject }}\n"
               "Ticket body: {{ inputs.variables.body }}",
        system_prompt="You triage support tickets. Answer JSON {\"label\": one of the labels, "
                      "\"confidence\": 0..1, \"reason\": short}.",
        draft_system_prompt="You are a support agent. Write a short, accurate first reply to the ticket.",
        parameters=[_labels(["billing", "bug", "how-to", "account", "feature-request"])],
        examples=[{"name": "Offline test", "parameters": {"model": "local/echo", "draft_model": "local/echo"}},
                  {"name": "Strict routing", "parameters": {"confidence_threshold": 0.9,
                                                            "labels": ["billing", "bug", "other"]}}])),
    _entry("draft-support-reply", verified=True, body=prompt_chain(
        name="Draft a support reply", category="customer-support", tags=["support", "writing", "email"],
        description="Write a reply to a customer message in your team's tone, with a clear next step and "
                    "without promising what support cannot deliver.",
        input_name="Customer message",
        prompt="Write a {{ params.tone }} reply signed by {{ params.signature }}.\n{{ params.policy }}\n\n"
               "Customer message:\n{{ inputs.variables.message }}",
        system_prompt="You are a careful customer support agent. Never invent order numbers or refunds.",
        parameters=[_tone("empathetic"),
                    text_parameter("signature", "Signature", "The Support Team", widget="text", max_length=80,
                                   group="Style", order=22),
                    text_parameter("policy", "House rules", "Offer a workaround when one exists. Link to the help "
                                   "centre for how-to questions.", order=23)],
        examples=[{"name": "Echo", "parameters": ECHO},
                  {"name": "Formal", "parameters": {"tone": "formal", "signature": "Acme Customer Care"}}])),
    _entry("customer-sentiment", body=prompt_chain(
        name="Detect customer sentiment", category="customer-support", tags=["support", "sentiment", "analysis"],
        description="Score a message from very negative to very positive and name the emotions in it, as JSON "
                    "for dashboards and routing.",
        input_name="Message",
        prompt="Rate the sentiment of this message on a scale of {{ params.scale }} points and list up to "
               "{{ params.max_emotions }} emotions.\n\n{{ inputs.variables.text }}",
        system_prompt="Answer JSON {\"score\": number, \"label\": string, \"emotions\": [string]}.",
        json_output=True,
        parameters=[{"name": "scale", "display_name": "Scale", "type": "integer", "default": 5,
                     "constraints": {"one_of": [3, 5, 7, 10]}, "ui": {"widget": "select", "order": 1}},
                    {"name": "max_emotions", "display_name": "Emotions to list", "type": "integer", "default": 3,
                     "constraints": {"min_value": 0, "max_value": 6}, "ui": {"order": 2}}],
        examples=[{"name": "Echo", "parameters": ECHO}], temperature=0.0, max_tokens=200)),
    _entry("escalate-urgent-tickets", body=classify_and_route(
        name="Escalate urgent tickets", category="customer-support", tags=["support", "urgency", "escalation"],
        description="Decide how urgent a ticket is (outage, security, data loss, VIP) and page a person for "
                    "the urgent ones; draft an acknowledgement for the rest.",
        input_name="Ticket",
        prompt="Urgency levels: {{ params.labels }}\nCustomer tier: {{ inputs.variables.tier }}\n"
               "Ticket: {{ inputs.variables.body }}",
        system_prompt="Classify urgency. Answer JSON {\"label\": level, \"confidence\": 0..1}. Outages and "
                      "security issues are always the highest level.",
        draft_system_prompt="Write a two-sentence acknowledgement that the ticket was received.",
        parameters=[_labels(["critical", "high", "normal", "low"])], threshold=0.8,
        examples=[{"name": "Echo", "parameters": {"model": "local/echo", "draft_model": "local/echo",
                                                  "escalation_message": "Page the on-call engineer"}}])),
    _entry("summarize-support-conversation", body=prompt_chain(
        name="Summarize a support conversation", category="customer-support",
        tags=["support", "summarization", "handover"],
        description="Turn a long ticket thread into a handover note: problem, what was tried, current state "
                    "and the next step.",
        input_name="Conversation",
        prompt="Write a handover note of at most {{ params.sentences }} sentences with the headings "
               "Problem, Tried, State, Next step.\n\n{{ inputs.variables.thread }}",
        system_prompt="You summarize support threads for the next agent. Be factual.",
        parameters=[_sentences(5)], examples=[{"name": "Echo", "parameters": ECHO}])),
    # ------------------------------------------------------------ summarization
    _entry("summarize-document", verified=True, featured=True, body=prompt_chain(
        name="Summarize a document", category="summarization", tags=["summarization", "documents", "llm"],
        description="A summary of any text in the length, tone and language you choose, optionally as "
                    "bullet points.",
        input_name="Document",
        prompt="Summarize the document below in {{ params.sentences }} sentences, in {{ params.language }}, "
               "{{ params.tone }} tone. Bullet points: {{ params.bullets }}.\n\n{{ inputs.variables.text }}",
        system_prompt="You write faithful summaries. Never add facts that are not in the text.",
        parameters=[_sentences(), _tone("neutral", 21), _language(order=22),
                    {"name": "bullets", "display_name": "Use bullet points", "type": "boolean", "default": False,
                     "ui": {"widget": "toggle", "group": "Style", "order": 23}}],
        examples=[{"name": "Echo", "parameters": ECHO},
                  {"name": "French bullets", "parameters": {"language": "fr", "bullets": True, "sentences": 5}}])),
    _entry("meeting-action-items", verified=True, body=prompt_chain(
        name="Meeting notes to action items", category="summarization", tags=["meetings", "productivity", "json"],
        description="Extract decisions and action items (owner, task, due date) from meeting notes or a "
                    "transcript, as JSON ready for your tracker.",
        input_name="Notes",
        prompt="Extract decisions and action items. Dates are relative to {{ params.meeting_timezone }}.\n\n"
               "{{ inputs.variables.notes }}",
        system_prompt="Answer JSON {\"decisions\": [string], \"actions\": [{\"owner\", \"task\", \"due\"}]}.",
        json_output=True,
        parameters=[{"name": "meeting_timezone", "display_name": "Time zone", "type": "string", "default": "UTC",
                     "constraints": {"max_length": 40, "pattern": "^[A-Za-z_/+-]+$"},
                     "ui": {"widget": "text", "order": 1}}],
        examples=[{"name": "Echo", "parameters": ECHO}], temperature=0.0)),
    _entry("news-digest", body=prompt_chain(
        name="Summarize a news digest", category="summarization", tags=["news", "summarization", "digest"],
        description="Condense several articles into one digest with a headline per story and why it matters.",
        input_name="Articles",
        prompt="Write a digest of these articles for {{ params.audience }}: one headline and "
               "{{ params.sentences }} sentences per story.\n\n{{ inputs.variables.articles }}",
        system_prompt="You are an editor who writes crisp news digests.",
        parameters=[_sentences(2, 5), text_parameter("audience", "Audience", "busy executives", widget="text",
                                                     max_length=100, group="Style", order=21)],
        examples=[{"name": "Echo", "parameters": ECHO}])),
    _entry("executive-summary", body=prompt_chain(
        name="Executive summary of a report", category="summarization", tags=["reporting", "summarization"],
        description="One page for decision makers: the situation, the key numbers, the risks and the "
                    "recommendation.",
        input_name="Report",
        prompt="Write an executive summary with sections Situation, Key numbers, Risks, Recommendation. "
               "At most {{ params.sentences }} sentences.\n\n{{ inputs.variables.report }}",
        system_prompt="You advise executives. Lead with the recommendation; quantify when you can.",
        parameters=[_sentences(8, 20)], examples=[{"name": "Echo", "parameters": ECHO}], max_tokens=1200)),
    # ------------------------------------------------------------ classification
    _entry("classify-text", verified=True, body=prompt_chain(
        name="Classify text into your labels", category="classification", tags=["classification", "labels", "json"],
        description="Zero-shot classification into the labels you define, with a confidence and a one-line "
                    "reason; optional multi-label.",
        input_name="Text",
        prompt="Labels: {{ params.labels }}\nSeveral labels allowed: {{ params.multi_label }}\n\n"
               "{{ inputs.variables.text }}",
        system_prompt="Answer JSON {\"labels\": [string], \"confidence\": 0..1, \"reason\": string}.",
        json_output=True,
        parameters=[_labels(["positive", "negative", "neutral"]),
                    {"name": "multi_label", "display_name": "Allow several labels", "type": "boolean",
                     "default": False, "ui": {"widget": "checkbox", "group": "Labels", "order": 6}}],
        examples=[{"name": "Echo", "parameters": ECHO},
                  {"name": "Topics", "parameters": {"labels": ["pricing", "product", "competition", "hiring"],
                                                    "multi_label": True}}], temperature=0.0, max_tokens=200)),
    _entry("spam-abuse-filter", body=classify_and_route(
        name="Spam and abuse filter", category="classification", tags=["moderation", "spam", "trust-safety"],
        description="Flag spam, harassment and scams in user content; confident verdicts are acted on, the rest "
                    "go to a moderator queue.",
        input_name="Content",
        prompt="Categories: {{ params.labels }}\nContent: {{ inputs.variables.text }}",
        system_prompt="You are a content moderator. Answer JSON {\"label\", \"confidence\"}.",
        draft_system_prompt="Write a short, neutral note to the author explaining the moderation decision.",
        parameters=[_labels(["ok", "spam", "harassment", "scam", "adult"])], threshold=0.85,
        examples=[{"name": "Echo", "parameters": {"model": "local/echo", "draft_model": "local/echo"}}])),
    _entry("route-emails", body=classify_and_route(
        name="Route emails to departments", category="classification", tags=["email", "routing", "classification"],
        description="Send each incoming email to the right department (sales, support, billing, legal, HR) "
                    "with a suggested reply, and to a person when unsure.",
        input_name="Email",
        prompt="Departments: {{ params.labels }}\nFrom: {{ inputs.variables.sender }}\n"
               "Subject: {{ inputs.variables.subject }}\n{{ inputs.variables.body }}",
        system_prompt="Route the email. Answer JSON {\"label\": department, \"confidence\": 0..1}.",
        draft_system_prompt="Draft a short reply acknowledging the email on behalf of the department.",
        parameters=[_labels(["sales", "support", "billing", "legal", "hr"])],
        examples=[{"name": "Echo", "parameters": {"model": "local/echo", "draft_model": "local/echo"}}])),
    _entry("detect-language", body=prompt_chain(
        name="Detect the language of a text", category="classification", tags=["language", "translation", "json"],
        description="Name the language (ISO code), the script and how sure the model is — a first step before "
                    "translation or routing.",
        input_name="Text",
        prompt="Identify the language of the text. Expected languages: {{ params.expected }}.\n\n"
               "{{ inputs.variables.text }}",
        system_prompt="Answer JSON {\"language\": ISO 639-1 code, \"script\": string, \"confidence\": 0..1}.",
        json_output=True,
        parameters=[{"name": "expected", "display_name": "Languages you expect", "type": "array",
                     "items": {"type": "string", "constraints": {"validators": ["language_code"]}},
                     "default": ["en", "fr", "de", "es"], "ui": {"widget": "tags", "order": 1}}],
        examples=[{"name": "Echo", "parameters": ECHO}], temperature=0.0, max_tokens=100)),
    # ------------------------------------------------------------ translation
    _entry("translate-text", verified=True, featured=True, body=prompt_chain(
        name="Translate text", category="translation", tags=["translation", "localization", "language"],
        description="Translate into any language, keeping formatting, names and a glossary of terms you never "
                    "want translated.",
        input_name="Text",
        prompt="Translate from {{ params.source_language }} to {{ params.target_language }} in a "
               "{{ params.tone }} register. Never translate: {{ params.glossary }}.\n\n{{ inputs.variables.text }}",
        system_prompt="You are a professional translator. Keep Markdown, placeholders and numbers unchanged.",
        parameters=[_language("source_language", "From", "en", order=1),
                    _language("target_language", "To", order=2, required=True),
                    _tone("neutral", 3),
                    {"name": "glossary", "display_name": "Terms to keep as they are", "type": "array",
                     "items": {"type": "string", "constraints": {"min_length": 1, "max_length": 60}},
                     "default": [], "ui": {"widget": "tags", "group": "Style", "order": 4}}],
        examples=[{"name": "English to French", "parameters": {"target_language": "fr", "model": "local/echo"}},
                  {"name": "German, formal", "parameters": {"target_language": "de", "tone": "formal",
                                                            "glossary": ["Symphony"]}}])),
    _entry("localize-ui-strings", body=prompt_chain(
        name="Localize UI strings", category="translation", tags=["localization", "i18n", "json"],
        description="Translate a JSON object of interface strings, keeping keys, placeholders like {name} and "
                    "length limits.",
        input_name="Strings",
        prompt="Translate the values (not the keys) into {{ params.target_language }}. Keep every placeholder. "
               "Stay within {{ params.max_length_ratio }} times the English length.\n\n{{ inputs.variables.strings }}",
        system_prompt="Answer JSON: the same object with translated values.",
        json_output=True,
        parameters=[_language("target_language", "Target language", order=1, required=True),
                    {"name": "max_length_ratio", "display_name": "Longest allowed (times the English length)", "type": "float",
                     "default": 1.3, "constraints": {"min_value": 1, "max_value": 3}, "ui": {"order": 2}}],
        examples=[{"name": "Spanish", "parameters": {"target_language": "es", "model": "local/echo"}}],
        temperature=0.1, max_tokens=2000)),
    _entry("translate-and-review", body=two_model_review(
        name="Translate and check the translation", category="translation",
        tags=["translation", "quality", "review"],
        description="One model translates, a second one reviews against the source and fixes mistranslations, "
                    "omissions and tone.",
        prompt="Translate into {{ params.target_language }}:\n\n{{ inputs.variables.text }}",
        system_prompt="You are a professional translator.",
        review_system_prompt="You review translations. Return the corrected translation only.",
        parameters=[_language("target_language", "Target language", order=1, required=True)],
        examples=[{"name": "Italian, offline", "parameters": {"target_language": "it", "model": "local/echo",
                                                              "review_model": "local/echo"}}])),
    # ------------------------------------------------------------ retrieval Q&A
    _entry("knowledge-base-qa", verified=True, body=retrieval_answer(
        name="Answer questions from a knowledge base", category="retrieval-qa",
        tags=["retrieval", "rag", "question-answering"],
        description="Search your knowledge base endpoint for passages, then answer only from them and say so "
                    "when the answer is not there.",
        system_prompt="Answer the question using only the passages. If they do not contain the answer, say "
                      "you do not know. Quote the passage ids you used.",
        parameters=[],
        examples=[{"name": "Example endpoint", "parameters": {"search_url": "https://kb.example.com/search",
                                                              "model": "local/echo"}}])),
    _entry("policy-qa-with-citations", body=retrieval_answer(
        name="Policy questions with citations", category="retrieval-qa",
        tags=["retrieval", "hr", "compliance", "citations"],
        description="Answer employees' policy questions from your handbook search endpoint, citing the section "
                    "of every claim.",
        system_prompt="You answer HR and compliance questions. Cite the section for every sentence. Recommend "
                      "contacting HR when the passages are ambiguous.",
        parameters=[],
        examples=[{"name": "Handbook", "parameters": {"search_url": "https://handbook.example.com/api/search",
                                                      "search_timeout": 5}}])),
    _entry("faq-answer-bot", body=prompt_chain(
        name="FAQ answer bot", category="retrieval-qa", tags=["faq", "question-answering", "support"],
        description="Answer a question from the FAQ text you paste into the parameters — no search service "
                    "needed.",
        input_name="Question",
        prompt="FAQ:\n{{ params.faq }}\n\nQuestion: {{ inputs.variables.question }}\n"
               "Answer in {{ params.sentences }} sentences or say that the FAQ does not cover it.",
        system_prompt="Answer only from the FAQ.",
        parameters=[text_parameter("faq", "FAQ text", "Q: How do I reset my password?\nA: Use 'Forgot password' "
                                   "on the sign-in page.", order=1, max_length=20000),
                    _sentences(2, 6)],
        examples=[{"name": "Echo", "parameters": ECHO}])),
    # ------------------------------------------------------------ data cleanup
    _entry("normalize-email-list", verified=True, body=list_cleanup(
        name="Normalize a list of email addresses", category="data-cleanup", tags=["data-cleanup", "email", "lists"],
        description="Trim and lowercase addresses, drop the ones that are not addresses, and count what is left.",
        item_type="string", map_expression="item | trim | lower", filter_expression="'@' in item and '.' in item",
        reducer="count", reducer_initial=0, extra_parameters=[],
        examples=[{"name": "Defaults", "parameters": {}}])),
    _entry("clean-numeric-readings", body=list_cleanup(
        name="Clean numeric readings", category="data-cleanup", tags=["data-cleanup", "numbers", "iot"],
        description="Round sensor or finance readings, drop out-of-range values and total what remains.",
        item_type="number", map_expression="item | round(2)", filter_expression="item >= 0 and item <= 1000",
        reducer="sum", reducer_initial=0, extra_parameters=[],
        examples=[{"name": "Defaults", "parameters": {}},
                  {"name": "Largest reading", "parameters": {"reducer": "max", "keep_when": "item > 0"}}])),
    _entry("drop-empty-rows", body=list_cleanup(
        name="Drop empty and duplicate-looking rows", category="data-cleanup", tags=["data-cleanup", "csv", "lists"],
        description="Collapse whitespace in every row and drop rows that are empty or just punctuation.",
        item_type="string", map_expression="item | trim", filter_expression="item | length > 1",
        reducer="count", reducer_initial=0, extra_parameters=[],
        examples=[{"name": "Defaults", "parameters": {}}])),
    _entry("extract-structured-fields", verified=True, body=prompt_chain(
        name="Extract structured fields from text", category="data-cleanup",
        tags=["extraction", "json", "data-cleanup"],
        description="Pull the fields you list (name, company, date, amount…) out of free text into JSON, with "
                    "null for what is missing.",
        input_name="Text",
        prompt="Extract these fields: {{ params.fields }}. Dates as {{ params.date_format }}.\n\n"
               "{{ inputs.variables.text }}",
        system_prompt="Answer JSON with exactly the requested keys; use null when a field is absent.",
        json_output=True,
        parameters=[{"name": "fields", "display_name": "Fields", "type": "array",
                     "items": {"type": "string", "constraints": {"validators": ["identifier"]}},
                     "default": ["name", "company", "email", "date"], "constraints": {"min_length": 1},
                     "ui": {"widget": "tags", "order": 1}},
                    {"name": "date_format", "display_name": "Date format", "type": "enum", "default": "ISO 8601",
                     "choices": ["ISO 8601", "DD/MM/YYYY", "MM/DD/YYYY"], "ui": {"order": 2}}],
        examples=[{"name": "Contacts", "parameters": {"model": "local/echo"}}], temperature=0.0)),
    _entry("extract-invoice-data", body=prompt_chain(
        name="Extract invoice data", category="data-cleanup", tags=["finance", "invoices", "extraction"],
        description="Read an invoice's text and return supplier, number, dates, currency, line items and "
                    "totals as JSON.",
        input_name="Invoice text",
        prompt="Extract supplier, invoice number, issue and due dates, currency ({{ params.default_currency }} "
               "when not stated), line items and totals.\n\n{{ inputs.variables.text }}",
        system_prompt="Answer JSON. Amounts are numbers, not strings.",
        json_output=True,
        parameters=[{"name": "default_currency", "display_name": "Default currency", "type": "string",
                     "default": "EUR", "constraints": {"pattern": "^[A-Z]{3}$"}, "ui": {"widget": "text", "order": 1}}],
        examples=[{"name": "Echo", "parameters": ECHO}], temperature=0.0, max_tokens=1500)),
    # ------------------------------------------------------------ approvals with human input
    _entry("expense-approval", verified=True, featured=True, body=approval(
        name="Expense approval", category="approvals", tags=["approvals", "finance", "human-in-the-loop"],
        description="Summarize an expense claim for the approver, wait for their decision, then notify the "
                    "claimant's system or record the refusal.",
        request_kind="expense", question="Approve this expense claim?",
        system_prompt="You help finance approvers. Flag missing receipts and amounts over policy.",
        examples=[{"name": "Finance webhook", "parameters": {"notify_url": "https://finance.example.com/approved",
                                                             "model": "local/echo"}}])),
    _entry("content-publishing-approval", body=approval(
        name="Content publishing approval", category="approvals", tags=["approvals", "marketing", "publishing"],
        description="Before a post goes live: a summary and risk notes for the editor, an approve/refuse "
                    "decision, then the publish webhook.",
        request_kind="publication", question="Publish this content now?",
        system_prompt="You are an editor's assistant. Flag claims that need a source and brand-voice issues.",
        examples=[{"name": "CMS", "parameters": {"notify_url": "https://cms.example.com/hooks/publish"}}])),
    _entry("access-request-approval", body=approval(
        name="Access request approval", category="approvals", tags=["approvals", "security", "it"],
        description="Summarize who wants access to what and why, ask the resource owner, and call the "
                    "provisioning webhook on approval.",
        request_kind="access", question="Grant this access?",
        system_prompt="You assist security reviewers. Point out broad scopes and missing end dates.",
        examples=[{"name": "IAM", "parameters": {"notify_url": "https://iam.example.com/grant",
                                                 "summary_sentences": 2}}])),
    # ------------------------------------------------------------ reporting
    _entry("daily-metrics-report", verified=True, body=report_to_webhook(
        name="Daily metrics report", category="reporting", tags=["reporting", "metrics", "slack"],
        description="Turn yesterday's numbers into a short written report with highlights and anomalies, and "
                    "post it to your team channel.",
        prompt="Write the daily report for {{ params.team_name }}. Call out changes over "
               "{{ params.anomaly_percent }}% as anomalies.\n\nFigures: {{ inputs.variables }}",
        system_prompt="Answer JSON {\"text\": the report in Markdown, \"anomalies\": [string]}.",
        parameters=[text_parameter("team_name", "Team", "Growth", widget="text", max_length=60, order=1,
                                   group="Report"),
                    {"name": "anomaly_percent", "display_name": "Anomaly threshold (%)", "type": "integer",
                     "default": 20, "constraints": {"min_value": 1, "max_value": 500},
                     "ui": {"group": "Report", "order": 2}}],
        examples=[{"name": "Team channel", "parameters": {"webhook_url": "https://hooks.example.com/metrics",
                                                          "model": "local/echo"}}])),
    _entry("weekly-status-report", body=report_to_webhook(
        name="Weekly status report", category="reporting", tags=["reporting", "projects", "status"],
        description="From a week of updates, write a status report (done, next, risks) and post it where the "
                    "stakeholders read.",
        prompt="Write the weekly status of project {{ params.project }} with sections Done, Next, Risks, "
               "in at most {{ params.max_bullets }} bullets each.\n\nUpdates: {{ inputs.variables }}",
        system_prompt="Answer JSON {\"text\": Markdown report}. Be specific and short.",
        parameters=[text_parameter("project", "Project", "Apollo", widget="text", max_length=80, order=1,
                                   group="Report"),
                    {"name": "max_bullets", "display_name": "Bullets per section", "type": "integer", "default": 5,
                     "constraints": {"min_value": 1, "max_value": 10}, "ui": {"group": "Report", "order": 2}}],
        examples=[{"name": "Stakeholders", "parameters": {"webhook_url": "https://hooks.example.com/status"}}])),
    _entry("sales-pipeline-summary", body=report_to_webhook(
        name="Sales pipeline summary", category="reporting", tags=["reporting", "sales", "crm"],
        description="Summarize pipeline changes — new, won, lost, slipped deals — with the total value per "
                    "stage, for the Monday sales meeting.",
        prompt="Summarize the pipeline in {{ params.currency }}. Highlight deals over {{ params.big_deal }}.\n\n"
               "{{ inputs.variables }}",
        system_prompt="Answer JSON {\"text\": Markdown summary, \"totals\": {stage: amount}}.",
        parameters=[{"name": "currency", "display_name": "Currency", "type": "string", "default": "USD",
                     "constraints": {"pattern": "^[A-Z]{3}$"}, "ui": {"widget": "text", "group": "Report",
                                                                       "order": 1}},
                    {"name": "big_deal", "display_name": "Big deal threshold", "type": "integer", "default": 50000,
                     "constraints": {"min_value": 0}, "ui": {"group": "Report", "order": 2}}],
        examples=[{"name": "CRM channel", "parameters": {"webhook_url": "https://hooks.example.com/sales",
                                                         "model": "local/echo"}}])),
    _entry("total-amounts", body=list_cleanup(
        name="Total a list of amounts", category="reporting", tags=["reporting", "finance", "numbers"],
        description="Keep the positive amounts of a list, round them to cents and add them up.",
        item_type="number", map_expression="item | round(2)", filter_expression="item > 0",
        reducer="sum", reducer_initial=0, extra_parameters=[],
        examples=[{"name": "Defaults", "parameters": {}}])),
    # ------------------------------------------------------------ writing and engineering
    _entry("product-descriptions", body=prompt_chain(
        name="Write product descriptions", category="marketing", tags=["marketing", "e-commerce", "writing"],
        description="Product copy from a few attributes: a headline, a paragraph and bullet benefits, in your "
                    "brand voice and length.",
        input_name="Product",
        prompt="Write a product description for {{ params.channel }} in a {{ params.tone }} tone, at most "
               "{{ params.max_words }} words.\n\nProduct: {{ inputs.variables }}",
        system_prompt="You are a conversion-focused copywriter. No superlatives you cannot back up.",
        parameters=[_tone("friendly", 1),
                    {"name": "channel", "display_name": "Channel", "type": "enum", "default": "web shop",
                     "choices": ["web shop", "marketplace listing", "newsletter", "social post"],
                     "ui": {"group": "Style", "order": 2}},
                    {"name": "max_words", "display_name": "Word limit", "type": "integer", "default": 120,
                     "constraints": {"min_value": 20, "max_value": 600}, "ui": {"group": "Style", "order": 3}}],
        examples=[{"name": "Echo", "parameters": ECHO}], temperature=0.7)),
    _entry("code-review-assistant", body=two_model_review(
        name="Code review assistant", category="engineering", tags=["engineering", "code-review", "quality"],
        description="A first model reviews a diff for bugs, security and readability; a second one removes "
                    "nitpicks and false alarms before the comments reach the author.",
        prompt="Review this {{ params.language_name }} diff. Focus: {{ params.focus }}.\n\n{{ inputs.variables.diff }}",
        system_prompt="You are a senior reviewer. List concrete problems with file and line.",
        review_system_prompt="Keep only comments that point to real problems; rewrite them kindly.",
        parameters=[{"name": "language_name", "display_name": "Programming language", "type": "enum",
                     "default": "Python", "choices": ["Python", "TypeScript", "Go", "Java", "Rust", "SQL"],
                     "ui": {"order": 1}},
                    {"name": "focus", "display_name": "Focus", "type": "array",
                     "items": {"type": "string"}, "default": ["bugs", "security", "readability"],
                     "ui": {"widget": "tags", "order": 2}}],
        examples=[{"name": "Offline", "parameters": {"model": "local/echo", "review_model": "local/echo"}}])),
    _entry("meeting-follow-up-email", body=prompt_chain(
        name="Meeting follow-up email", category="productivity", tags=["email", "meetings", "writing"],
        description="A follow-up email from meeting notes: thanks, decisions, owners and dates, in the sender's "
                    "voice.",
        input_name="Meeting notes",
        prompt="Write a follow-up email from {{ params.sender }} in a {{ params.tone }} tone.\n\n"
               "{{ inputs.variables.notes }}",
        system_prompt="You write short, clear business emails.",
        parameters=[text_parameter("sender", "Sender", "Alex", widget="text", max_length=80, group="Style",
                                   order=1), _tone("friendly", 2)],
        examples=[{"name": "Echo", "parameters": ECHO}])),
]

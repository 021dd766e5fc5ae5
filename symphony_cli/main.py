"""`symphony`: the commands. Each is a thin layer over one or two API calls; refusals become
exit codes and plain words (`errors.py`), `--json` prints the API's own answer."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from symphony_cli import config, render
from symphony_cli.client import ApiError, Client
from symphony_cli.errors import Refusal, Usage, handled
from symphony_cli.exit_codes import ExitCode
from symphony_cli.follow import BarView, LineView, View, follow

app = typer.Typer(name="symphony", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False,
                  help="Symphony from the terminal: workflows, templates, executions and the audit log.")
templates_app = typer.Typer(no_args_is_help=True, help="Find templates and make workflows from them.")
executions_app = typer.Typer(no_args_is_help=True, help="List, inspect and control executions.")
audit_app = typer.Typer(no_args_is_help=True, help="Read and export a team's audit log (admins).")
app.add_typer(templates_app, name="templates")
app.add_typer(executions_app, name="executions")
app.add_typer(audit_app, name="audit")

UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's answer as JSON.")]
TeamOption = Annotated[str | None, typer.Option("--team", "-t", envvar="SYMPHONY_TEAM",
                                                help="Team id or name; may be left out by a member of one team.")]
EXPORT_FORMATS = ("json", "msgpack", "zstd", "lz4")
AUDIT_FORMATS = ("ndjson", "json", "csv")
AUDIT_PAGE = 200  # the audit list's largest page
# The first bytes of a framed binary workflow file (docs/binary-format.md).
BINARY_MAGIC = b"\x89SWF"


def out(line: str = "") -> None:
    typer.echo(line)


def err(line: str) -> None:
    typer.echo(line, err=True)


def print_json(value: Any) -> None:
    out(json.dumps(value, indent=2, ensure_ascii=False))


def client() -> Client:
    return Client(config.load())


def assignments(items: list[str] | None, option: str) -> dict[str, Any]:
    """`name=text` (a string) or `name:=json` (any JSON value), as HTTPie reads them."""
    values: dict[str, Any] = {}
    for item in items or []:
        name, equals, value = item.partition("=")
        if not equals or not name or name == ":":
            raise Usage(f"{option} {item!r}: write name=text, or name:=JSON for numbers, lists and objects")
        if name.endswith(":"):
            name = name[:-1]
            try:
                values[name] = json.loads(value)
            except ValueError:
                raise Usage(f"{option} {item!r}: {value!r} is not JSON (use name=text for a string)") from None
        else:
            values[name] = value
    return values


def team_of(api: Client, team: str | None) -> dict[str, Any]:
    """The team named by id or name among the user's teams; the only one when not named."""
    teams = api.get("/me/")["teams"]
    if team:
        for candidate in teams:
            if team in (candidate["id"], candidate["id"].replace("-", "")) or \
                    team.casefold() == candidate["name"].casefold():
                return dict(candidate)
        raise Usage(f"you are not a member of a team {team!r}; yours: "
                    + (", ".join(candidate["name"] for candidate in teams) or "none"))
    if len(teams) == 1:
        return dict(teams[0])
    if not teams:
        raise Refusal("you are not a member of any team", code="no_team")
    raise Usage("you are in several teams (" + ", ".join(candidate["name"] for candidate in teams)
                + "): name one with --team or SYMPHONY_TEAM")


def workflow_id(api: Client, reference: str, team: str | None = None) -> str:
    """A workflow by id, or by its exact name among the workflows the user can see."""
    if UUID.match(reference):
        return reference
    team_id = team_of(api, team)["id"] if team else None
    found = [row for row in api.pages("/workflows/", q=reference, team=team_id)
             if row["name"] == reference]
    if not found:
        raise Refusal(f"no workflow named {reference!r} that you can see", code="not_found")
    if len(found) > 1:
        raise Refusal(f"{len(found)} workflows are named {reference!r}: use an id ("
                      + ", ".join(f"{row['id']} in {row['team_name']}" for row in found) + ")", code="ambiguous")
    return str(found[0]["id"])


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise Usage(f"cannot read {path}: {error.strerror or error}") from None


def json_document(path: Path) -> tuple[bytes, dict[str, Any]]:
    """A JSON workflow file: its bytes (for the server's strict reader) and its value."""
    data = read_file(path)
    if data.startswith(BINARY_MAGIC) or data[:1] in (b"\x92", b"\x93", b"\xdc", b"\xdd"):
        raise Usage(f"{path} is a binary workflow file (MessagePack, zstd or lz4); this command reads "
                    "JSON. 'symphony import' takes any format, and 'symphony export --format json' gives JSON")
    try:
        value = json.loads(data)
    except ValueError as error:
        raise Refusal(f"{path} is not JSON: {error}", code="malformed") from None
    if not isinstance(value, dict):
        raise Refusal(f"{path} holds JSON but not an object", code="malformed")
    return data, value


# --- login ----------------------------------------------------------------------------------


@app.command()
@handled
def login(
    url: Annotated[str | None, typer.Option(help="The server, e.g. http://127.0.0.1:8000.")] = None,
    token: Annotated[str | None, typer.Option(help="An API token (asked for when left out).")] = None,
    username: Annotated[str | None, typer.Option(
        help="Make a new token with this user's password instead of giving one.")] = None,
) -> None:
    """Check a token against the server (GET /api/v1/me/) and keep it in the config folder (0600)."""
    url = config.normalise_url(url or typer.prompt("Server URL", default="http://127.0.0.1:8000"))
    if username:
        password = typer.prompt(f"Password for {username}", hide_input=True)
        anonymous = Client(config.Credentials(url=url, token=""))
        with anonymous:
            anonymous.http.headers.pop("Authorization")
            created = anonymous.request("POST", "/auth/token/", json={
                "username": username, "password": password, "name": "symphony-cli"}).json()
        token = str(created["token"])
    token = (token or typer.prompt("API token", hide_input=True)).strip()
    credentials = config.Credentials(url=url, token=token)
    with Client(credentials) as api:
        me = api.get("/me/")
    path = config.save(credentials)
    teams = ", ".join(f"{team['name']} ({team['role']})" for team in me["teams"]) or "none"
    out(f"Logged in to {url} as {me['username']}; teams: {teams}.")
    out(f"Token saved in {path} (readable by you only).")


@app.command()
@handled
def logout() -> None:
    """Forget the stored token (it stays valid on the server until revoked)."""
    path = config.config_path()
    out(f"Removed {path}." if config.forget() else f"Not logged in ({path} does not exist).")


@app.command()
@handled
def whoami(as_json: JsonOption = False) -> None:
    """The user the token belongs to, and their teams and roles."""
    with client() as api:
        me = api.get("/me/")
    if as_json:
        print_json(me)
        return
    out(f"{me['username']} on {api.credentials.url}")
    for line in render.table(["team", "role", "id"], [[team["name"], team["role"], team["id"]] for team in me["teams"]]):
        out(line)


# --- workflows ------------------------------------------------------------------------------


@app.command()
@handled
def validate(file: Path, as_json: JsonOption = False) -> None:
    """Check a JSON workflow file against the server's graph rules and node catalog (nothing is
    stored). Exit 0 when valid, 1 when not."""
    data, _ = json_document(file)
    with client() as api:
        result = api.request("POST", "/workflows/validate/", content=data,
                             headers={"Content-Type": "application/json"}).json()
    if as_json:
        print_json(result)
    else:
        out(f"{file}: {'valid' if result['valid'] else 'invalid'}"
            f" ({render.plural(len(result['errors']), 'error')}, {render.plural(len(result['warnings']), 'warning')})")
        for issue in result["errors"]:
            out(f"  error {render.issue_line(issue)}")
        for issue in result["warnings"]:
            out(f"  warning {render.issue_line(issue)}")
    if not result["valid"]:
        raise typer.Exit(ExitCode.REFUSED)


@app.command()
@handled
def show(target: Annotated[str, typer.Argument(help="A JSON workflow file, or a workflow's id or name.")],
         version: Annotated[str | None, typer.Option(help="A stored version (default: the current one).")] = None,
         as_json: JsonOption = False) -> None:
    """A readable view of a workflow: nodes by kind with ports and config, then edges."""
    path = Path(target)
    if path.exists():
        _, document = json_document(path)
        if as_json:
            print_json(document)
            return
        out(render.summary(document))
        out()
        for line in render.workflow_tree(document):
            out(line)
        return
    with client() as api:
        identifier = workflow_id(api, target)
        workflow = api.get(f"/workflows/{identifier}/")
        if version:
            workflow = {**workflow, **api.get(f"/workflows/{identifier}/versions/{version}/")}
    if as_json:
        print_json(workflow)
        return
    document = workflow["document"]
    out(render.summary(document))
    out(f"id {workflow['id']} · team {workflow['team_name']}"
        + (" · archived" if workflow.get("archived") else "")
        + (f" · last run {workflow['last_run']['state']}" if workflow.get("last_run") else ""))
    out()
    for line in render.workflow_tree(document):
        out(line)


@app.command(name="import")
@handled
def import_(file: Path, team: TeamOption = None, as_json: JsonOption = False) -> None:
    """Store a workflow file (JSON, MessagePack, zstd or lz4, as exported) in a team."""
    data = read_file(file)
    media = "application/json" if data.lstrip()[:1] == b"{" else "application/octet-stream"
    with client() as api:
        team_id = team_of(api, team)["id"]
        workflow = api.request("POST", "/workflows/import/", params={"team": team_id}, content=data,
                               headers={"Content-Type": media}).json()
    if as_json:
        print_json(workflow)
        return
    out(f"Imported {workflow['name']} v{workflow['current_version']['version']} into {workflow['team_name']}: "
        f"{workflow['id']}")


@app.command()
@handled
def export(workflow: Annotated[str, typer.Argument(help="A workflow's id or name.")],
           export_format: Annotated[str, typer.Option("--format", "-f", help="json, msgpack, zstd or lz4.")] = "json",
           version: Annotated[str | None, typer.Option(help="A stored version (default: the current one).")] = None,
           output: Annotated[Path | None, typer.Option("--output", "-o",
                                                       help="The file to write; '-' for standard output. "
                                                            "Default: the server's file name, here.")] = None) -> None:
    """Download a workflow version as a file."""
    if export_format not in EXPORT_FORMATS:
        raise Usage(f"--format {export_format!r}: use one of {', '.join(EXPORT_FORMATS)}")
    with client() as api:
        identifier = workflow_id(api, workflow)
        response = api.request("GET", f"/workflows/{identifier}/export/",
                               params={"format": export_format, **({"version": version} if version else {})})
    data = response.content
    if output is not None and str(output) == "-":
        if export_format != "json" and sys.stdout.isatty():
            raise Usage("refusing to write a binary file to a terminal; use --output FILE")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    if output is None:
        disposition = response.headers.get("Content-Disposition", "")
        match = re.search(r'filename="([^"/\\]+)"', disposition)
        output = Path(match.group(1) if match else f"{identifier}.{export_format}")
    output.write_bytes(data)
    out(f"Wrote {output} ({len(data):,} bytes, {export_format}).")


# --- templates ------------------------------------------------------------------------------


@templates_app.command("search")
@handled
def templates_search(
    query: Annotated[str, typer.Argument(help="Words to look for (empty: everything you can see).")] = "",
    category: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[str | None, typer.Option()] = None,
    sort: Annotated[str | None, typer.Option(help="relevance, popular, newest or rating.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Search the templates you can see."""
    with client() as api:
        page = api.get("/templates/", q=query, category=category, tag=tag, sort=sort, limit=limit)
    if as_json:
        print_json(page)
        return
    rows = page["results"]
    if not rows:
        out("No templates found.")
        return
    for line in render.table(
            ["slug", "version", "rating", "uses", "publisher", "name"],
            [[row["slug"], row["latest_version"], f"{row['rating_average']:.1f} ({row['rating_count']})",
              row["usage_count"], row["publisher"]["name"], row["name"]] for row in rows]):
        out(line)
    if page.get("typo_fallback"):
        out("(nothing matched exactly; these are close spellings)")


@templates_app.command("use")
@handled
def templates_use(
    slug: str,
    param: Annotated[list[str] | None, typer.Option("--param", "-p",
                                                    help="name=text or name:=JSON; repeatable.")] = None,
    team: TeamOption = None,
    version: Annotated[str | None, typer.Option(help="A version constraint, e.g. ^1.2 (default: latest).")] = None,
    name: Annotated[str | None, typer.Option(help="The new workflow's name.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Make a workflow in your team from a template and its parameters."""
    parameters = assignments(param, "--param")
    with client() as api:
        body: dict[str, Any] = {"team": team_of(api, team)["id"], "parameters": parameters}
        if version:
            body["version"] = version
        if name:
            body["name"] = name
        made = api.post(f"/templates/{slug}/instantiate/", body)
    if as_json:
        print_json(made)
        return
    workflow = made["workflow"]
    out(f"Created {workflow['name']} ({workflow['id']}) from {slug} {made['template_version']}.")
    if made.get("applied_defaults"):
        out("Defaults used: " + ", ".join(f"{applied['parameter']}={render.text(applied['value'])}"
                                          for applied in made["applied_defaults"]))
    for warning in made.get("warnings") or []:
        out(f"warning: {warning['message']} [{warning['code']}]")


# --- executions -----------------------------------------------------------------------------


def _view(total: int) -> View:
    if sys.stderr.isatty():
        from rich.console import Console

        return BarView(Console(stderr=True), total)
    return LineView(err)


def follow_execution(api: Client, execution: dict[str, Any]) -> dict[str, Any]:
    """Watch an execution to its end over the WebSocket; its final state from the API."""
    identifier = str(execution["id"])

    def estimate() -> float | None:
        try:
            value = api.get(f"/executions/{identifier}/")["progress"]["estimated_remaining_s"]
        except ApiError:
            return None
        return float(value) if value is not None else None

    total = int(execution["progress"]["total"])
    # Followed even when it has already ended: the stream replays every event from the first and
    # stops at the end, and a start whose cheap nodes ran inline may answer with a run that ended
    # in its own request, whose steps would otherwise never be shown.
    follow(api.credentials, identifier, total=total, view=_view(total), estimate=estimate)
    return dict(api.get(f"/executions/{identifier}/"))


@app.command()
@handled
def run(
    workflow: Annotated[str, typer.Argument(help="A workflow's id or name.")],
    input_: Annotated[list[str] | None, typer.Option("--input", "-i",
                                                     help="name=text or name:=JSON; repeatable.")] = None,
    version: Annotated[str | None, typer.Option(help="A version of the workflow (default: current).")] = None,
    team: TeamOption = None,
    follow_it: Annotated[bool, typer.Option("--follow", "-f",
                                            help="Watch it to the end: a progress bar with the estimate.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Start an execution (operator role or above). With --follow, exit 0 only if it completes."""
    inputs = assignments(input_, "--input")
    with client() as api:
        body: dict[str, Any] = {"workflow": workflow_id(api, workflow, team), "inputs": inputs}
        if version:
            body["version"] = version
        execution = api.post("/executions/", body)
        if not follow_it:
            if as_json:
                print_json(execution)
            else:
                out(f"Started execution {execution['id']} of {execution['workflow_name']} "
                    f"v{execution['version']}: {execution['state']}.")
            return
        if not as_json:
            err(f"Following execution {execution['id']} of {execution['workflow_name']} "
                f"v{execution['version']} ({render.plural(int(execution['progress']['total']), 'node')}).")
        final = follow_execution(api, execution)
    finish(final, as_json)


def finish(execution: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(execution)
    else:
        out(f"Execution {execution['id']} {execution['state']}.")
        if execution.get("outputs"):
            out("outputs " + render.text(execution["outputs"]))
        if execution.get("error"):
            error = execution["error"]
            out(f"error {error.get('code')}: {error.get('message')}" if isinstance(error, dict) else f"error {error}")
    if execution["state"] != "completed":
        raise typer.Exit(ExitCode.EXECUTION_UNSUCCESSFUL)


@executions_app.command("list")
@handled
def executions_list(
    state: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
    workflow: Annotated[str | None, typer.Option(help="A workflow's id or name.")] = None,
    team: TeamOption = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Executions of your teams, newest first."""
    with client() as api:
        rows = list(api.pages("/executions/", limit=limit, state=state,
                              workflow=workflow_id(api, workflow) if workflow else None,
                              team=team_of(api, team)["id"] if team else None))
    if as_json:
        print_json(rows)
        return
    if not rows:
        out("No executions.")
        return
    for line in render.table(["id", "state", "progress", "started", "workflow"],
                             [[row["id"], row["state"], render.percentage(row["progress"]),
                               row["started_at"] or row["created_at"], f"{row['workflow_name']} v{row['version']}"]
                              for row in rows]):
        out(line)


ExecutionArgument = Annotated[str, typer.Argument(help="The execution's id.")]


@executions_app.command("show")
@handled
def executions_show(
    execution_id: ExecutionArgument,
    follow_it: Annotated[bool, typer.Option("--follow", "-f", help="Watch it to the end first.")] = False,
    as_json: JsonOption = False,
) -> None:
    """One execution: state, progress and estimate, node runs, history, commands available now."""
    with client() as api:
        execution = api.get(f"/executions/{execution_id}/")
        if follow_it:
            execution = follow_execution(api, execution)
    if as_json:
        print_json(execution)
    else:
        for line in render.execution_lines(execution):
            out(line)
    if follow_it and execution["state"] != "completed":
        raise typer.Exit(ExitCode.EXECUTION_UNSUCCESSFUL)


def command(execution_id: str, body: dict[str, Any], as_json: bool, path: str = "commands") -> None:
    with client() as api:
        execution = api.post(f"/executions/{execution_id}/{path}/", body)
    if as_json:
        print_json(execution)
        return
    out(f"Execution {execution['id']} is {execution['state']}.")


@executions_app.command("pause")
@handled
def executions_pause(execution_id: ExecutionArgument, as_json: JsonOption = False) -> None:
    """Pause a running execution: nothing new starts; running nodes finish."""
    command(execution_id, {"command": "pause"}, as_json)


@executions_app.command("resume")
@handled
def executions_resume(execution_id: ExecutionArgument, as_json: JsonOption = False) -> None:
    """Resume a paused execution."""
    command(execution_id, {"command": "resume"}, as_json)


@executions_app.command("cancel")
@handled
def executions_cancel(execution_id: ExecutionArgument,
                      reason: Annotated[str, typer.Option(help="Kept in the history and the audit log.")] = "",
                      as_json: JsonOption = False) -> None:
    """Cancel an execution that has not ended."""
    command(execution_id, {"command": "cancel", "reason": reason} if reason else {"command": "cancel"}, as_json)


@executions_app.command("retry")
@handled
def executions_retry(execution_id: ExecutionArgument,
                     node: Annotated[str | None, typer.Option(
                         help="Retry this failed node inside the execution instead.")] = None,
                     reason: Annotated[str, typer.Option()] = "",
                     as_json: JsonOption = False) -> None:
    """Run a failed or cancelled execution again as a new one that reuses completed nodes; with
    --node, retry one failed node that holds its successors (error policy 'pause')."""
    if node:
        command(execution_id, {"command": "retry_node", "node_id": node}, as_json)
        return
    with client() as api:
        rerun = api.post(f"/executions/{execution_id}/rerun/", {"reason": reason} if reason else {})
    if as_json:
        print_json(rerun)
        return
    out(f"Started execution {rerun['id']} (a re-run of {execution_id}): {rerun['state']}.")


# --- audit ----------------------------------------------------------------------------------


def audit_filters(event_type: str | None, since: str | None, until: str | None,
                  execution: str | None) -> dict[str, Any]:
    return {"event_type": event_type, "since": since, "until": until, "execution": execution}


EventTypeOption = Annotated[str | None, typer.Option(help="An event type, or a prefix such as 'workflow.*'.")]
SinceOption = Annotated[str | None, typer.Option(help="ISO 8601, inclusive (UTC without an offset).")]
UntilOption = Annotated[str | None, typer.Option(help="ISO 8601, exclusive.")]
ExecutionOption = Annotated[str | None, typer.Option(help="Only entries about this execution.")]


@audit_app.command("tail")
@handled
def audit_tail(
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, max=200, help="How many of the latest.")] = 20,
    team: TeamOption = None,
    event_type: EventTypeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    execution: ExecutionOption = None,
    following: Annotated[bool, typer.Option("--follow", "-f", help=(
        "Keep printing new entries as they are appended (Ctrl-C stops); with --json, one entry per line."))] = False,
    interval: Annotated[float, typer.Option(min=0.2, max=300, help="Seconds between checks with --follow.")] = 2.0,
    as_json: JsonOption = False,
) -> None:
    """The team's latest audit entries, oldest of them first; with --follow, then every new one."""
    filters = audit_filters(event_type, since, until, execution)
    with client() as api:
        team_id = team_of(api, team)["id"]
        entries = list(reversed(api.get("/audit/", team=team_id, limit=lines, **filters)["results"]))
        if not following:
            if as_json:
                print_json(entries)
            elif not entries:
                out("No audit entries.")
            else:
                for line in render.table(AUDIT_COLUMNS, [audit_row(entry) for entry in entries]):
                    out(line)
            return
        print_audit_lines(entries, as_json)
        last = entries[-1]["sequence"] if entries else newest_sequence(api, team_id)
        try:
            while True:
                time.sleep(interval)
                entries = audit_entries_after(api, team_id, filters, last)
                print_audit_lines(entries, as_json)
                if entries:
                    last = entries[-1]["sequence"]
        except KeyboardInterrupt:
            return


AUDIT_COLUMNS = ["seq", "when", "actor", "event", "target"]


def audit_row(entry: dict[str, Any]) -> list[Any]:
    return [entry["sequence"], entry["occurred_at"], entry["actor_name"] or entry["actor_type"], entry["event_type"],
            f"{entry['target_type']} {entry['target_name'] or entry['target_id']}".strip()
            + (f" ({entry['reason']})" if entry.get("reason") else "")]


def print_audit_lines(entries: list[dict[str, Any]], as_json: bool) -> None:
    """Entries as they arrive: one JSON object per line, or one tab-separated line each (a table
    cannot be aligned over entries not yet written)."""
    for entry in entries:
        out(json.dumps(entry, ensure_ascii=False) if as_json else "\t".join(str(cell) for cell in audit_row(entry)))
    sys.stdout.flush()


def newest_sequence(api: Client, team_id: str) -> int:
    """The chain's newest sequence (whatever the filters), so following starts after it."""
    newest = api.get("/audit/", team=team_id, limit=1)["results"]
    return int(newest[0]["sequence"]) if newest else 0


def audit_entries_after(api: Client, team_id: str, filters: dict[str, Any], last: int) -> list[dict[str, Any]]:
    """The entries matching the filters with a sequence above `last`, oldest first. The list is
    newest first, so read pages until one reaches an entry already printed."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get("/audit/", team=team_id, limit=AUDIT_PAGE, cursor=cursor, **filters)
        newer = [entry for entry in page["results"] if entry["sequence"] > last]
        found += newer
        if len(newer) < len(page["results"]) or not page.get("next"):
            return list(reversed(found))
        cursor = page["next"]


@audit_app.command("export")
@handled
def audit_export(
    export_format: Annotated[str, typer.Option("--format", "-f", help="ndjson, json or csv.")] = "ndjson",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The file (default: standard output).")] = None,
    team: TeamOption = None,
    event_type: EventTypeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    execution: ExecutionOption = None,
) -> None:
    """Stream the team's audit entries, oldest first, with their hashes (the export is audited)."""
    if export_format not in AUDIT_FORMATS:
        raise Usage(f"--format {export_format!r}: use one of {', '.join(AUDIT_FORMATS)}")
    with client() as api:
        team_id = team_of(api, team)["id"]
        with api.stream("/audit/export/", team=team_id, format=export_format,
                        **audit_filters(event_type, since, until, execution)) as response:
            if output is None:
                for chunk in response.iter_bytes():
                    sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
                return
            written = 0
            with output.open("wb") as handle:
                for chunk in response.iter_bytes():
                    handle.write(chunk)
                    written += len(chunk)
    err(f"Wrote {output} ({written:,} bytes, {export_format}).")


def main() -> None:
    """The `symphony` console script."""
    app()

"""The command line: ``everyfamily --help``.

``main(argv, environ)`` takes the environment as a parameter and maps the exception family to
exit codes: a user error prints one line and no traceback (``--debug`` shows it). Tracebacks
never print local variables, which could hold personal data.

Each command imports what it runs inside its own function: ``everyfamily --help`` and a
mistyped command must start without pandas, DuckDB, Splink or GeoPandas (a guardrail test
checks that importing this module loads none of them). That is the one reason for a
function-level import in this module.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from everyfamily import __version__
from everyfamily.catalogue import extractable
from everyfamily.errors import ConfigError, EveryfamilyError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from everyfamily.web.auth import UserStore

app = typer.Typer(
    name="everyfamily",
    help=(
        "everyfamily: see which young children your early-years services reach, which they "
        "miss, where and why.\n\n"
        "Start with 'everyfamily demo' to run the whole pipeline on a synthetic Knowsley "
        "scenario, or 'everyfamily run PROJECT.yaml' on your own council's data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # rich tracebacks show locals: they may hold personal data
    rich_markup_mode=None,
)

_state: dict[str, object] = {"debug": False, "environ": {}}


@app.callback()
def _global(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks (for developers).")
    ] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def version() -> None:
    """Print the everyfamily version."""
    typer.echo(__version__)


@app.command()
def validate(
    project: Annotated[Path, typer.Argument(help="Your project file (YAML).")],
    sample_rows: Annotated[
        int, typer.Option(min=1, help="Rows of each source to check against the settings.")
    ] = 5000,
    files: Annotated[
        bool, typer.Option(help="Also open every source file and print its mapping report.")
    ] = True,
) -> None:
    """Check a project file: every setting known, every required one present; then open every
    source and check a sample of its rows against the columns, date formats and value maps."""
    from everyfamily.config import load_project
    from everyfamily.ingest.profile import profile_source

    p = load_project(project)
    if files:
        from everyfamily.ingest.profile import check_site_codes
        from everyfamily.population.attributes import load_sites

        site_ids = frozenset(load_sites(p.sites)["site_id"].astype(str)) if p.sites else None
        from everyfamily.population.attributes import load_deprivation
        from everyfamily.population.denominators import load_population
        from everyfamily.population.geography import check_geography

        for line in check_geography(p):  # boundaries, postcode lookup, hierarchy: opened
            typer.echo(line)
        load_population(p)  # the reference tables too: a wrong file is an error here
        load_deprivation(p.deprivation)
        for source in p.sources:
            if site_ids is not None:
                check_site_codes(source, site_ids)
            prof = profile_source(
                source,
                reference_date=p.project.reference_date,
                min_age_years=p.engagement.min_age_years,
                max_age_years=p.engagement.max_age_years,
                sample_rows=sample_rows,
            )
            for line in prof.lines():
                typer.echo(line)
    typer.echo(f"{project}: valid ({len(p.sources)} sources)")


@app.command()
def init(
    files: Annotated[
        list[Path], typer.Argument(help="The council's extracts (CSV, Excel, Parquet).")
    ],
    out: Annotated[Path, typer.Option(help="The project file to write.")] = Path("project.yaml"),
    base: Annotated[
        Path | None,
        typer.Option(
            help="A project file whose settings (geography, population, sites ...) to keep; "
            "its sources are replaced by the drafted ones."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite OUT if it exists.")] = False,
) -> None:
    """Draft a project file from the council's extracts: encodings, delimiters, sheets, date
    formats and a best-guess column map with confidences, as commented YAML to edit."""
    from everyfamily.errors import ConfigError
    from everyfamily.ingest.draft import base_sites, draft_sources, render_project

    if out.exists() and not force:
        raise ConfigError(f"{out}: the file exists", hint="give another --out, or --force")
    drafted = draft_sources(files, sites=base_sites(base))
    out.write_text(render_project(drafted, out, base), encoding="utf-8")
    for d in drafted:
        doubtful = [m.field for m in d.guess.mappings if not m.accepted]
        unsure = [v for v, (sid, _) in d.site_map.items() if sid is None]
        typer.echo(
            f"source {d.name!r} ({d.path.name}): role {d.guess.role}, "
            f"{len(d.guess.columns)} columns mapped"
            + (f", check commented guesses for {', '.join(doubtful)}" if doubtful else "")
            + (f", {len(unsure)} site values unmatched" if unsure else "")
        )
    typer.echo(f"wrote {out}: review it, then run `everyfamily validate {out}`")


@app.command("settings-doc")
def settings_doc(
    out: Annotated[
        Path | None, typer.Option(help="Write to this file instead of printing.")
    ] = None,
) -> None:
    """Print the reference of every project-file setting (docs/settings.md)."""
    from everyfamily.settings_doc import render_settings_doc

    _print_or_write(render_settings_doc(), out)


@app.command("codes-doc")
def codes_doc(
    out: Annotated[
        Path | None, typer.Option(help="Write to this file instead of printing.")
    ] = None,
) -> None:
    """Print every code list read without a value map (docs/code-lists.md)."""
    from everyfamily.codes_doc import render_code_lists_doc

    _print_or_write(render_code_lists_doc(), out)


def _print_or_write(text: str, out: Path | None) -> None:
    """A generated document to the console, or to ``out``."""
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("demo-output"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic scenario.")] = 2026,
    scale: Annotated[
        float,
        typer.Option(
            help="Share of the children to simulate, 0.1 to 1 (e.g. 0.25 for a quick, "
            "quarter-size world)."
        ),
    ] = 1.0,
    months_earlier: Annotated[
        int | None,
        typer.Option(
            help="Start a monthly series: the extracts as they were this many month ends "
            "before the reference date (1 to 11), with families leaving each month."
        ),
    ] = None,
    month_later: Annotated[
        Path | None,
        typer.Option(
            help="Output folder of a monthly-series demo run: run the extracts one month "
            "later (same seed and scale) and report what changed since it."
        ),
    ] = None,
) -> None:
    """Generate the synthetic Knowsley scenario and run the whole pipeline on it."""
    from everyfamily.demo.run import run_demo

    if month_later is not None:
        from everyfamily.demo.run import month_later as later

        run_demo(out_dir=out, echo=typer.echo, environ=_environ(), **later(month_later))
        return
    if months_earlier is not None and not 0 <= months_earlier <= 11:
        from everyfamily.errors import ConfigError

        raise ConfigError(
            f"--months-earlier {months_earlier}: expected 0 to 11",
            hint="a monthly series of the demo spans at most the last 12 months",
        )
    run_demo(
        out_dir=out,
        seed=seed,
        echo=typer.echo,
        environ=_environ(),
        scale=scale,
        months_earlier=months_earlier,
    )


@app.command()
def run(
    project: Annotated[Path, typer.Argument(help="Your project file (YAML).")],
    out: Annotated[Path | None, typer.Option(help="Output folder (default: outputs.dir).")] = None,
    previous_run: Annotated[
        Path | None,
        typer.Option(
            help="Output folder of the previous run (e.g. last month's): ids carry over and "
            "since_last_run.csv says what changed (default: project.previous_run_path)."
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="Engine: duckdb or spark (default: the project's engine setting)."),
    ] = None,
    stages: Annotated[
        str | None,
        typer.Option(
            help="For developers: run only these stages, comma-separated (e.g. "
            "ingest,link,measure); refused when a stage reads what a left-out one writes."
        ),
    ] = None,
) -> None:
    """Run the pipeline on the council data that a project file describes."""
    from everyfamily.config import load_project
    from everyfamily.errors import ConfigError
    from everyfamily.pipeline import run_pipeline

    p = load_project(project)
    if previous_run is not None:
        info = p.project.model_copy(update={"previous_run_path": previous_run.absolute()})
        p = p.model_copy(update={"project": info})
    if engine is not None:
        if engine not in ("duckdb", "spark"):
            raise ConfigError(f"--engine {engine}: unknown engine", hint="use duckdb or spark")
        p = p.model_copy(update={"engine": engine})
    out_dir = out or p.outputs.dir
    if out_dir is None:
        raise ConfigError(f"{project}: no output folder", hint="pass --out DIR or set outputs.dir")
    only = None if stages is None else [s.strip() for s in stages.split(",") if s.strip()]
    run_pipeline(p, out_dir=out_dir, echo=typer.echo, environ=_environ(), stages=only)


@app.command()
def plan(
    project: Annotated[Path, typer.Argument(help="Your project file (YAML).")],
    run_dir: Annotated[Path, typer.Option("--run", help="Output folder of a finished run.")],
    scenarios: Annotated[
        Path | None,
        typer.Option(help="Scenario file (YAML; default: planning.scenarios_path)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for plan.json, plan.csv, plan.gpkg.")
    ] = None,
) -> None:
    """Re-plan from a finished run without running it again (reads its stores)."""
    from everyfamily.config import load_project
    from everyfamily.planning.stage import plan_from_run

    p = load_project(project)
    done = plan_from_run(
        p, run_dir, scenarios=scenarios, out=out, echo=typer.echo, environ=_environ()
    )
    typer.echo(f"plan written to {done}")


@app.command()
def serve(
    out_dir: Annotated[Path, typer.Argument(help="Output folder of a run (e.g. demo-output).")],
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    role: Annotated[
        str,
        typer.Option(
            help="LOCAL SINGLE-USER MODE ONLY (no users store): the role of every visitor: "
            "viewer (aggregates only), centre_manager, outreach_worker, analyst or admin. "
            "Once 'everyfamily users add' has created users, login is required instead."
        ),
    ] = "viewer",
    users_file: Annotated[
        Path | None,
        typer.Option(help="Users store (default: OUT_DIR/users.sqlite)."),
    ] = None,
    allow_incomplete: Annotated[
        bool,
        typer.Option(
            "--allow-incomplete",
            help="Serve a folder whose last run failed or did not finish (its files may "
            "mix two runs; a warning is printed).",
        ),
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            metavar="ADDR",
            help="A reverse proxy (address or network, e.g. 10.0.0.5 or 10.0.0.0/24) whose "
            "X-Forwarded-For header names the client for the login limits; repeat for "
            "several. Replaces the run's web.trusted_proxies setting. Without any, the "
            "header is ignored (a client could forge it).",
        ),
    ] = None,
) -> None:
    """Start the web dashboard over a run's outputs and print its address."""
    proxies = _trusted_proxies(trusted_proxy)
    _check_run_complete(out_dir, allow_incomplete)

    import uvicorn

    web_app, role = _dashboard_app(out_dir, role, users_file, proxies)
    _check_can_listen(host, port)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"everyfamily dashboard for {out_dir} at http://{shown}:{port}/ "
        f"(role: {role}; press Ctrl+C to stop)"
    )
    # Access logs are off: request paths can carry area codes and filters. Who saw what is
    # in the app's own audit log (users store), with the stated purpose.
    from everyfamily.web.app import SERVER_OPTIONS

    uvicorn.run(web_app, host=host, port=port, **SERVER_OPTIONS)


def _check_run_complete(out_dir: Path, allow_incomplete: bool) -> None:
    """Refuse a folder whose last run is still running or failed (its files may mix two
    runs), unless ``--allow-incomplete``, which only warns."""
    from everyfamily.pipeline import run_status

    status = run_status(out_dir)
    if status not in {"running", "failed"}:
        return
    if not allow_incomplete:
        state = "is still running or was stopped" if status == "running" else "failed"
        raise ConfigError(
            f"{out_dir}: its last run {state} (run.json status {status}), so its files "
            "may mix two runs",
            hint="re-run the pipeline into this folder, or pass --allow-incomplete",
        )
    typer.echo(
        f"WARNING: {out_dir}: the last run did not complete (status {status}); "
        "figures may mix two runs",
        err=True,
    )


def _dashboard_app(
    out_dir: Path, role: str, users_file: Path | None, proxies: tuple[str, ...] | None
) -> tuple[FastAPI, str]:
    """The dashboard app and the role text to print: login per user when the users store
    has users (then ``--role`` must be left out), else local single-user mode with ``role``
    for every visitor (a warning is printed)."""
    from everyfamily.web import create_app
    from everyfamily.web.access import StaticPolicy, check_role
    from everyfamily.web.auth import USERS_FILE, UserStore

    users_path = users_file or out_dir / USERS_FILE
    # A users store can exist with no users (it also holds the audit log of extracts).
    if users_path.is_file() and UserStore(users_path).users():
        if role != "viewer":
            raise ConfigError(
                f"--role {role}: a users store exists ({users_path}), so login is required",
                hint="leave out --role; give users roles with 'everyfamily users set-role'",
            )
        web_app = create_app(
            out_dir, users=UserStore(users_path), environ=_environ(), trusted_proxies=proxies
        )
        return web_app, "per user (login required)"
    web_app = create_app(
        out_dir,
        policy=StaticPolicy(check_role(role)),
        environ=_environ(),
        trusted_proxies=proxies,
        users_path=users_path,
    )
    typer.echo(
        "WARNING: no users store, so the dashboard runs in LOCAL SINGLE-USER MODE: "
        f"everyone who can reach this address is '{role}', with no login and no audit "
        "log. Create users with 'everyfamily users add' before sharing it (from the "
        "first user on, login is required at once, without a restart).",
        err=True,
    )
    return web_app, role


def _check_can_listen(host: str, port: int) -> None:
    """A one-line ConfigError when ``host:port`` cannot be bound (in use, or not an address
    of this machine), before the server starts."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise ConfigError(
                f"--host {host} --port {port}: cannot listen there (in use or not this machine)",
                hint="choose another --port",
            ) from None


def _trusted_proxies(values: list[str] | None) -> tuple[str, ...] | None:
    """``--trusted-proxy`` values checked (None when none is given: the run's setting)."""
    import ipaddress

    if not values:
        return None
    for value in values:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ConfigError(
                f"--trusted-proxy {value!r}: not an IP address or network",
                hint="e.g. --trusted-proxy 10.0.0.5 or --trusted-proxy 10.0.0.0/24",
            ) from None
    return tuple(v.strip() for v in values)


@app.command()
def governance(
    project: Annotated[Path, typer.Argument(help="Your project file (YAML).")],
    out: Annotated[Path, typer.Option(help="Folder for the governance files.")] = Path(
        "governance"
    ),
) -> None:
    """Write the data-flow register and a DPIA draft from the project file (no data read)."""
    from everyfamily.config import load_project
    from everyfamily.governance import write_governance

    for path in write_governance(load_project(project), out):
        typer.echo(f"wrote {path}")


@app.command()
def extract(
    out_dir: Annotated[Path, typer.Argument(help="Output folder of a run.")],
    table: Annotated[
        str,
        typer.Argument(help="One of: " + ", ".join(extractable()) + "."),
    ],
    to: Annotated[Path, typer.Option(help="File to write: .csv or .parquet.")],
    purpose: Annotated[str, typer.Option(help="Why you need it (written to the audit log).")],
    by: Annotated[
        str | None, typer.Option(help="Who is extracting (default: your login name).")
    ] = None,
    users_file: Annotated[
        Path | None, typer.Option(help="Users store holding the audit log.")
    ] = None,
) -> None:
    """Write a restricted table to a PLAIN file, on purpose: audited, needs the run's key.

    Quarantined rows to fix, the clerical-review sample, the id registry for a run in a new
    folder, and the pseudonymised children and not-reached tables live only in the run's
    encrypted stores; this is the one way out of them. The file is not encrypted: keep it
    in the restricted area and delete it when done.
    """
    import getpass

    from everyfamily.privacy.extract import extract_table
    from everyfamily.web.auth import USERS_FILE, UserStore

    who = by or getpass.getuser()
    n = extract_table(
        out_dir,
        table,
        to,
        purpose=purpose,
        audit=UserStore(users_file or out_dir / USERS_FILE),
        who=who,
        environ=_environ(),
    )
    typer.echo(f"wrote {n:,} rows of {table} to {to} (restricted: delete it when done)")


def _environ() -> Mapping[str, str]:
    environ = _state.get("environ")
    return environ if isinstance(environ, Mapping) else os.environ


users_app = typer.Typer(
    help="Dashboard users: add them, give roles and areas, disable them (login and audit).",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")


def _store(out_dir: Path, users_file: Path | None) -> UserStore:
    from everyfamily.web.auth import USERS_FILE, UserStore

    return UserStore(users_file or out_dir / USERS_FILE)


_OutArg = Annotated[Path, typer.Argument(help="Output folder the dashboard serves.")]
_UsersOpt = Annotated[
    Path | None, typer.Option(help="Users store (default: OUT_DIR/users.sqlite).")
]


def _areas(text: str, out_dir: Path | None = None) -> tuple[str, ...]:
    from everyfamily.web.user_areas import resolve_areas

    return resolve_areas(text, out_dir)


@users_app.command("add")
def users_add(
    out_dir: _OutArg,
    username: Annotated[str, typer.Argument(help="User name, e.g. j.smith.")],
    role: Annotated[
        str, typer.Option(help="viewer, centre_manager, outreach_worker, analyst or admin.")
    ] = "viewer",
    areas: Annotated[
        str, typer.Option(help="Areas an outreach worker may see (codes, comma separated).")
    ] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    users_file: _UsersOpt = None,
) -> None:
    """Add a user. The password is asked for (or read from stdin), never an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = _store(out_dir, users_file)
    user = store.add(username, password, role, _areas(areas, out_dir))
    typer.echo(f"added {user.username} ({user.role})")


@users_app.command("set-role")
def users_set_role(
    out_dir: _OutArg,
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="The new role.")],
    users_file: _UsersOpt = None,
) -> None:
    """Change a user's role (their sessions end)."""
    store = _store(out_dir, users_file)
    user = store.set_role(username, role)
    typer.echo(f"{user.username}: role {user.role}")


@users_app.command("set-areas")
def users_set_areas(
    out_dir: _OutArg,
    username: Annotated[str, typer.Argument()],
    areas: Annotated[str, typer.Argument(help="Area codes, comma separated ('' for none).")],
    users_file: _UsersOpt = None,
) -> None:
    """Set the areas whose outreach list a user may open."""
    store = _store(out_dir, users_file)
    user = store.set_areas(username, _areas(areas, out_dir))
    typer.echo(f"{user.username}: {len(user.areas)} area(s)")


@users_app.command("unlock")
def users_unlock(
    out_dir: _OutArg, username: Annotated[str, typer.Argument()], users_file: _UsersOpt = None
) -> None:
    """Lift a user's lock-out after failed logins (audited)."""
    store = _store(out_dir, users_file)
    store.unlock(username)
    typer.echo(f"{username}: unlocked")


@users_app.command("reset-password")
def users_reset_password(
    out_dir: _OutArg,
    username: Annotated[str, typer.Argument()],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    users_file: _UsersOpt = None,
) -> None:
    """Set a new password (asked for, or read from stdin); sessions end, locks lift."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    store = _store(out_dir, users_file)
    store.reset_password(username, password)
    typer.echo(f"{username}: password reset")


@users_app.command("disable")
def users_disable(
    out_dir: _OutArg, username: Annotated[str, typer.Argument()], users_file: _UsersOpt = None
) -> None:
    """Disable a user (their sessions end; the audit log keeps their history)."""
    store = _store(out_dir, users_file)
    store.disable(username)
    typer.echo(f"{username}: disabled")


@users_app.command("list")
def users_list(out_dir: _OutArg, users_file: _UsersOpt = None) -> None:
    """List users with their role, areas and whether they are disabled."""
    store = _store(out_dir, users_file)
    for u in store.users():
        flag = " (disabled)" if u.disabled else ""
        typer.echo(f"{u.username}\t{u.role}\t{','.join(u.areas) or '-'}{flag}")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting."""
    _state["environ"] = dict(os.environ if environ is None else environ)
    args = list(sys.argv[1:] if argv is None else argv)
    _state["debug"] = "--debug" in args
    try:
        result = app(args=args, prog_name="everyfamily", standalone_mode=False)
    except EveryfamilyError as exc:
        if _state["debug"]:
            traceback.print_exc()
        typer.echo(f"error: {exc.one_line()}", err=True)
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except Exception as exc:
        # Usage errors and explicit exits carry their own exit codes. Typer vendors its own
        # copy of click, so these are recognised by class name rather than by import.
        names = {cls.__name__ for cls in type(exc).__mro__}
        if "ClickException" in names:
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if "Exit" in names:
            return int(getattr(exc, "exit_code", 0))
        if _state["debug"]:
            raise
        # An unexpected failure: name its type only; the message could hold a data value.
        typer.echo(
            f"error: internal error ({type(exc).__name__}); rerun with --debug for the traceback "
            "and report it without attaching data",
            err=True,
        )
        return 1
    return result if isinstance(result, int) else 0


def entrypoint() -> None:
    sys.exit(main())

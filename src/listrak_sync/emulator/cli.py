"""``listrak-sync emulator``: serve the emulator, and talk to a running one."""

from __future__ import annotations

import enum
import ipaddress
import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from .admin_client import EmulatorAdmin, EmulatorAdminError
from .coverage import operations_command
from .realism import REALISM_ENV
from .server import EmulatorServer
from .state import DEFAULT_MAX_REQUEST_BYTES

__all__ = ["app", "load_seed", "sample_seed"]

app = typer.Typer(help="Run a local Listrak emulator, or manage a running one.")
console = Console(stderr=True)
app.command("operations")(operations_command)

UrlOption = Annotated[
    str, typer.Option("--url", envvar="LISTRAK_EMULATOR_URL", help="A running emulator.")
]


class RealismChoice(enum.StrEnum):
    """The emulator's realism modes (listrak_sync.emulator.realism)."""

    strict = "strict"
    realistic = "realistic"


def load_seed(path: Path) -> dict[str, Any]:
    """Read a seed document (YAML or JSON; JSON is YAML). Errors name the file and position."""
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise typer.BadParameter(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise typer.BadParameter(f"{path}{where}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise typer.BadParameter(f"{path}: a seed document is a mapping at the top level")
    return doc


def sample_seed() -> dict[str, Any]:
    """The sandbox shipped with the package: demo integrations, lists, contacts, an SMS list."""
    text = resources.files(__package__).joinpath("sample_seed.yml").read_text("utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind; loopback by default.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8787,
    state: Annotated[
        Path | None, typer.Option("--state", help="Persist state in this DuckDB file.")
    ] = None,
    seed: Annotated[Path | None, typer.Option(help="Seed document (YAML/JSON) to load.")] = None,
    sample: Annotated[
        bool, typer.Option("--sample", help="Start with the sample sandbox (the demo's data).")
    ] = False,
    token_ttl: Annotated[int, typer.Option(help="Token lifetime in seconds.", min=1)] = 3600,
    realism: Annotated[
        RealismChoice,
        typer.Option(
            envvar=REALISM_ENV,
            help="strict: the specs' tidy answers; realistic: also the recorded quirks "
            "(fractional seconds, explicit nulls, 429 without Retry-After, charset variants).",
        ),
    ] = RealismChoice.strict,
    max_request_bytes: Annotated[
        int,
        typer.Option(help="Requests larger than this answer 404, as IIS does.", min=1),
    ] = DEFAULT_MAX_REQUEST_BYTES,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow a non-loopback --host: the demo secrets and the unauthenticated admin "
            "surface become reachable from the network.",
        ),
    ] = False,
) -> None:
    """Serve the Auth, Email, SMS and Data APIs on one port until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    if not _is_loopback(host):
        if not allow_remote:
            console.print(
                f"[red]error:[/] --host {host} is not a loopback address: anyone on the network "
                "could read the demo secrets and reset or seed the emulator through its "
                "unauthenticated admin surface. Add --allow-remote to bind it anyway."
            )
            raise typer.Exit(2)
        console.print(
            f"[yellow]warning:[/] listening on {host}: the admin surface (/_emulator) and the "
            "integrations' secrets are reachable by anyone who can reach this port."
        )
    server = EmulatorServer(
        host=host,
        port=port,
        token_ttl=token_ttl,
        state_file=state,
        realism=realism.value,
        max_request_bytes=max_request_bytes,
    )
    docs = [("sample sandbox", sample_seed())] if sample else []
    if seed is not None:
        docs.append((str(seed), load_seed(seed)))
    for where, doc in docs:
        try:
            server.seed(doc)
        except Exception as exc:
            console.print(f"[red]error:[/] {where}: {exc}")
            raise typer.Exit(2) from None
    console.print(
        f"Listrak emulator on http://{host}:{port} ({realism.value}; admin: /_emulator/state)"
    )
    server.run()


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def _admin(url: str) -> EmulatorAdmin:
    return EmulatorAdmin(url)


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/] {exc}")
    return typer.Exit(1)


@app.command("seed")
def seed_command(
    file: Annotated[Path, typer.Argument(help="Seed document (YAML/JSON).")],
    url: UrlOption = "http://127.0.0.1:8787",
) -> None:
    """Load a seed document into a running emulator."""
    doc = load_seed(file)
    try:
        _admin(url).seed(doc)
    except (EmulatorAdminError, OSError) as exc:
        raise _fail(exc) from None
    console.print(f"seeded {url} from {file}")


@app.command("state")
def state_command(
    url: UrlOption = "http://127.0.0.1:8787",
    full: Annotated[bool, typer.Option(help="Include every contact.")] = False,
) -> None:
    """Print what a running emulator holds, as JSON."""
    try:
        print(json.dumps(_admin(url).state(full=full), indent=2))
    except (EmulatorAdminError, OSError) as exc:
        raise _fail(exc) from None


@app.command("reset")
def reset_command(url: UrlOption = "http://127.0.0.1:8787") -> None:
    """Forget everything a running emulator holds."""
    try:
        _admin(url).reset()
    except (EmulatorAdminError, OSError) as exc:
        raise _fail(exc) from None


@app.command("fault")
def fault_command(
    url: UrlOption = "http://127.0.0.1:8787",
    clear: Annotated[bool, typer.Option(help="Remove every fault rule.")] = False,
    rule: Annotated[
        str | None, typer.Option(help="A fault rule as JSON, e.g. '{\"latency_ms\": 20}'.")
    ] = None,
) -> None:
    """Add a fault rule to a running emulator, or clear them."""
    try:
        admin = _admin(url)
        if clear:
            admin.clear_faults()
        if rule:
            admin.add_fault(**json.loads(rule))
    except (EmulatorAdminError, OSError, ValueError) as exc:
        raise _fail(exc) from None

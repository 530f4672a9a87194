"""`pocket-hq keys` and `issue`: issuer keys, and signed health codes made with them (what demos and tests scan,
through exactly the path real use takes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import segno
from pydantic import ValidationError

from sync.core.i18n import _
from sync.core.cli_types import UTC_TIME
from sync.core.codes import Colour
from sync.core.codes.keys import DISTRICT_KEY_FILE, TRUST_SUBDIR, IssuerKeyError, create_issuer_keys, load_issuer_key
from sync.core.codes.pgc import issue_code
from sync.core.identity import DistrictKeyError, load_district_key, mask_name, resident_id_problem, subject_hash
from sync.hq import issuer_keys
from sync.hq.cli.options import db_option, local_times, open_db
from sync.hq.cli.output import hq_errors


@click.group()
def keys() -> None:
    """Manage the issuer keys that sign health codes."""


@keys.command("init")
@click.option("--dir", "folder", required=True, type=click.Path(path_type=Path, file_okay=False), help="Keys folder to create.")
@click.option(
    "--alg",
    type=click.Choice(["Ed25519", "ES256"]),
    default="Ed25519",
    show_default=True,
    help="Signature algorithm of the new issuer key.",
)
def keys_init(folder: Path, alg: str) -> None:
    """Create an issuer key pair and the district key in a new folder.

    Everything stays at HQ: publish the public key with `pocket-hq trust add`, and start HQ with the district key
    (`serve --district-key`). A gate without HQ reads the trust/ subfolder (its `trust_dir`)."""
    try:
        kid = create_issuer_keys(folder, alg)  # type: ignore[arg-type]
    except (IssuerKeyError, DistrictKeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("issuer key {kid} ({alg}) created in {folder}").format(kid=kid.hex(), alg=alg, folder=folder))
    click.echo(_("public keys: {trust}   district key (stays at HQ): {key}").format(trust=folder / TRUST_SUBDIR, key=folder / DISTRICT_KEY_FILE))


@keys.command("rotate")
@click.option("--dir", "folder", required=True, type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Keys folder from `keys init`.")
@click.option("--overlap-hours", type=click.FloatRange(min=0), default=72.0, show_default=True,
              help="How long codes signed by the old key still pass (people fetch new codes meanwhile); "
                   "0 withdraws it at once (a key that leaked).")
@db_option
@hq_errors
def keys_rotate(folder: Path, overlap_hours: float, db: str | None) -> None:
    """Replace the issuer key: new codes are signed by a new key, published to every gate at once; the old key
    is trusted beside it for --overlap-hours, then withdrawn from every bundle (a running server does so on the
    minute); --overlap-hours 0 withdraws it at once. The old key moves to retired/ in the folder, so nothing
    signs with it again and `trust add` of the folder never publishes it again."""
    try:
        database = open_db(db)
        done = issuer_keys.rotate(database, folder, timedelta(hours=overlap_hours))
    except IssuerKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("issuer key {kid} signs new codes from now on (bundle version {version})").format(
        kid=done.new_kid, version=done.version))
    if done.withdrawn:
        click.echo(_("issuer key {kid} is withdrawn from every gate: codes it signed are refused from the next sync "
                     "on").format(kid=done.old_kid))
    else:
        click.echo(_("issuer key {kid} is trusted until {until}, then withdrawn from every gate").format(
            kid=done.old_kid, until=local_times(database)(done.withdraw_at)))


@click.command()
@click.option("--keys", "folder", required=True, type=click.Path(path_type=Path, file_okay=False), help="Keys folder from `keys init`.")
@click.option("--id", "id_number", required=True, help="The holder's ID number (hashed; never stored in the code).")
@click.option("--doc-type", default="resident-id", show_default=True, help="Kind of ID document; other kinds skip the check digit.")
@click.option("--name", required=True, help="The holder's name (masked in the code unless --no-mask).")
@click.option("--no-mask", is_flag=True, help="Put the name in the code as given (it must already be masked).")
@click.option("--colour", type=click.Choice([c.value for c in Colour]), required=True, help="Health-code colour.")
@click.option("--hours", type=click.FloatRange(min=0.01, max=24 * 366), default=24.0, show_default=True, help="Validity from issue, in hours.")
@click.option("--issued-at", type=UTC_TIME, help="Issue time, ISO 8601 (default now; UTC if no offset).")
@click.option("--tested-at", type=UTC_TIME, help="Time of the last negative nucleic-acid test, ISO 8601.")
@click.option("--travel-risk/--no-travel-risk", default=None, help="Stayed in a medium/high risk area in the last 14 days.")
@click.option("--issuer", default="district-hq", show_default=True, help="Issuer name put in the code.")
@click.option("--png", type=click.Path(path_type=Path, dir_okay=False), help="Also write the QR code as a PNG image.")
@click.option("--scale", type=click.IntRange(1, 40), default=6, show_default=True, help="Pixels per QR module in the PNG.")
def issue(
    folder: Path,
    id_number: str,
    doc_type: str,
    name: str,
    no_mask: bool,
    colour: str,
    hours: float,
    issued_at: datetime | None,
    tested_at: datetime | None,
    travel_risk: bool | None,
    issuer: str,
    png: Path | None,
    scale: int,
) -> None:
    """Issue a signed health code and print its text (and write its QR image with --png)."""
    if doc_type == "resident-id" and (problem := resident_id_problem(id_number)):
        raise click.BadParameter(problem, param_hint="--id")
    try:
        key = load_issuer_key(folder)
        district_key = load_district_key(folder / DISTRICT_KEY_FILE)
    except (IssuerKeyError, DistrictKeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    start = issued_at or datetime.now(UTC)
    try:
        text = issue_code(
            key,
            issuer=issuer,
            subject=subject_hash(district_key, id_number, doc_type),
            name=name if no_mask else mask_name(name),
            colour=Colour(colour),
            issued_at=start,
            expires_at=start + timedelta(hours=hours),
            negative_test_at=tested_at,
            travel_risk=travel_risk,
        )
    except ValidationError as exc:
        raise click.ClickException(_("cannot issue: {field}: {problem}").format(
            field=exc.errors()[0]["loc"][0], problem=exc.errors()[0]["msg"])) from exc
    click.echo(text)
    if png is not None:
        segno.make(text, error="m").save(str(png), scale=scale, border=4)
        click.echo(_("QR image written to {path}").format(path=png), err=True)

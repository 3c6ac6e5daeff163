"""Destination settings: where an audience (or a data set) goes, and what it carries by default."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from .events import EventDestination
from .files import ListrakDataDestination, ListrakFilesDestination, SftpTarget

__all__ = [
    "Attribute",
    "AttributeMapping",
    "DataApiDestination",
    "Destination",
    "EmailDestination",
    "EmailList",
    "EventDestination",
    "FilesDestination",
    "ProjectFilesDestination",
    "ProjectSftpTarget",
    "SmsDestination",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _attribute_shorthand(value: Any) -> Any:
    # `- first_name` means "column first_name into the field of the same name".
    return {"column": value} if isinstance(value, str) else value


class AttributeMapping(BaseModel):
    """A warehouse column sent to Listrak, under a profile field name (or id)."""

    model_config = _STRICT

    column: str = Field(min_length=1)
    field: str | int | None = None  # Listrak profile field name or id; defaults to ``column``

    @property
    def target(self) -> str:
        return str(self.field) if self.field is not None else self.column


Attribute = Annotated[AttributeMapping, BeforeValidator(_attribute_shorthand)]


class EmailList(BaseModel):
    """An email list, by id or by name (resolved to an id at run time)."""

    model_config = _STRICT

    id: int | None = Field(default=None, gt=0)
    name: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_of(self) -> EmailList:
        if (self.id is None) == (self.name is None):
            raise ValueError("give the list's id or its name (exactly one)")
        return self


class _AudienceDestination(BaseModel):
    model_config = _STRICT

    credential: str
    attributes: list[Attribute] = Field(default_factory=list)
    attribute_table: str | None = None  # defaults to the campaign's, then the profile table
    # Column holding the email/phone in the attribute table; the warehouse's email_column or
    # phone_column when not set.
    key_column: str | None = None
    # Refuse a run that would turn off/unsubscribe more than this share of current members.
    removal_guard: float = Field(default=0.2, ge=0, le=1)


class EmailDestination(_AudienceDestination):
    """A Listrak email list kept in step with an audience (issue 5)."""

    type: Literal["listrak_email"]
    list: EmailList
    field_group: str = "listrak-sync Audiences"
    segment_field: str | None = None  # the CheckBox field; defaults to the campaign name
    mode: Literal["flag", "mirror", "add"] = "flag"
    create_missing_fields: bool = False
    suppress_email_notifications: bool = True
    trigger_journey: bool = False
    # How changes are written: the quicker of list imports and per-contact calls for each step
    # (auto), or always one of them.
    writes: Literal["auto", "imports", "contacts"] = "auto"

    @property
    def primary_key(self) -> Literal["email"]:
        return "email"


class SmsDestination(_AudienceDestination):
    """A Listrak SMS list whose membership is the audience (issue 6)."""

    type: Literal["listrak_sms"]
    sender_code_id: int = Field(gt=0)
    list_id: int = Field(gt=0)
    default_region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")  # warehouse's if unset
    require_consent: bool = True
    consent_table: str | None = None  # defaults to the warehouse's sms_opt_status.table
    match_custom_fields: bool = True  # send attributes whose names match SMS profile fields

    @property
    def primary_key(self) -> Literal["phone"]:
        return "phone"


def _login_from_credential(field: str) -> BeforeValidator:
    """Refuse ``field`` in the project file: the SFTP login comes from a named credential."""

    def refuse(value: Any) -> Any:
        secret = field != "username"
        raise PydanticCustomError(
            "login_in_project_file",
            (
                f"`{field}` may not be written in the project file (it is meant for git); "
                "the SFTP login comes from the credential named by `credential`"
                if secret
                else f"`{field}` comes from the credential named by `credential`"
            ),
            {
                "hint": "add `credential: NAME` here and define it under `credentials:` as "
                "{type: sftp, username: ..., private_key: {env: VARIABLE}} (or password:, "
                "passphrase:, each {env: VARIABLE} or {secret: NAME} from the 0600 secrets file)"
            },
        )

    return BeforeValidator(refuse)


class ProjectSftpTarget(SftpTarget):
    """The ``sftp:`` block of a ``listrak_files`` destination in ``listrak-sync.yml``: where to
    connect, and the name of the ``type: sftp`` credential that logs in.

    The login fields are refused here (no secrets in the project file); ``project.sftp_target``
    fills them from the credential into the ``SftpTarget`` the uploader uses.
    """

    credential: str = Field(min_length=1)
    username: Annotated[str, _login_from_credential("username")] = ""
    password: Annotated[None, _login_from_credential("password")] = None
    private_key: Annotated[None, _login_from_credential("private_key")] = None
    private_key_data: Annotated[None, _login_from_credential("private_key_data")] = None
    passphrase: Annotated[None, _login_from_credential("passphrase")] = None


class ProjectFilesDestination(ListrakFilesDestination):
    """``listrak_files`` as written in the project file: SFTP logins by credential name only."""

    sftp: ProjectSftpTarget | None = None


# The file and Data Import API destinations are defined in files.py, the event destination
# (`listrak-sync serve`) in events.py.
FilesDestination = ListrakFilesDestination
DataApiDestination = ListrakDataDestination

Destination = Annotated[
    EmailDestination
    | SmsDestination
    | ProjectFilesDestination
    | ListrakDataDestination
    | EventDestination,
    Field(discriminator="type"),
]

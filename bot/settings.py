"""All configuration, from environment variables and `.env`, read in one place and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///growthbot.db", description="SQLAlchemy URL of the database.")
    slack_bot_token: SecretStr | None = Field(default=None, description="Bot token (xoxb-...).")
    slack_signing_secret: SecretStr | None = Field(default=None, description="Verifies requests from Slack.")
    slack_app_token: SecretStr | None = Field(default=None, description="App-level token (xapp-...) for Socket Mode.")
    slack_api_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL.")
    default_timezone: str = Field(default="America/New_York", description="Time zone when a person has none.")
    host: str = Field(default="0.0.0.0", description="Interface `growthbot serve` listens on.")
    port: int = Field(default=3000, description="Port `growthbot serve` listens on.")
    log_level: str = Field(default="INFO", description="Logging level.")
    draft_idle_days: int = Field(default=14, ge=1, description="Days before an idle goal draft is set aside.")
    http_threads: int = Field(default=16, ge=1, description="Worker threads of the HTTP server.")
    listener_threads: int = Field(
        default=16, ge=0, description="Threads handling kept requests after the ack; 0 leaves them to workers."
    )
    tick_seconds: float = Field(default=10, gt=0, description="How often the scheduler ticks.")
    grace_hours: float = Field(default=6, ge=0, description="A message later than this after downtime is skipped.")
    kind_grace_hours: dict[str, float] = Field(
        default_factory=dict, description='Per-kind grace, JSON, e.g. {"observation.feedback_reminder": 24}.'
    )
    quiet_start: str = Field(default="07:00", description="Start of the default messaging window (local time).")
    quiet_end: str = Field(default="18:00", description="End of the default messaging window (local time).")
    files_dir: Path = Field(default=Path("growthbot-files"), description="Where the terminal writes invites.")
    notice_school_days: int = Field(default=2, ge=0, description="Notice before an announced observation.")
    feedback_school_days: int = Field(default=5, ge=1, description="School days to share observation feedback.")
    rubric_path: Path | None = Field(default=None, description="A district rubric YAML instead of the default.")
    teams_app_id: str | None = Field(default=None, description="The Azure Bot's Microsoft App ID (a GUID).")
    teams_app_password: SecretStr | None = Field(default=None, description="The Azure Bot's client secret.")
    teams_tenant_id: str | None = Field(default=None, description="The Microsoft Entra tenant of the bot.")
    teams_authority_url: str = Field(
        default="https://login.microsoftonline.com", description="Where msal gets the bot's tokens (tests: a fake)."
    )
    teams_openid_metadata_url: str = Field(
        default="https://login.botframework.com/v1/.well-known/openidconfiguration",
        description="Bot Framework OpenID metadata, whose keys sign inbound Teams requests.",
    )
    instruments_dir: Path | None = Field(default=None, description="A folder of district survey instruments (YAML).")
    min_group_size: int = Field(
        default=5, ge=3, description="Survey results for fewer responses than this are withheld (never below 3)."
    )
    http_connection_limit: int = Field(
        default=4000, ge=10, description="Connections the HTTP server keeps open at once (idle ones included)."
    )
    http_request_timeout: float = Field(
        default=10, gt=0, description="Seconds a request may take to arrive, from its first byte to its last."
    )
    http_channel_timeout: int = Field(default=15, ge=1, description="Seconds an HTTP connection may stay silent.")
    slack_send_concurrency: int = Field(default=8, ge=1, description="Slack outbox posts in flight per process.")

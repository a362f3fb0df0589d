"""The `alerts` section of the settings: how the dispatcher delivers the alert outbox."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class AlertSettings(BaseModel):
    """How the dispatcher delivers the alert outbox: retries with exponential backoff, and burst folding.

    More than `burst_max_alerts` alerts from one thread within `burst_window_seconds` are folded into one
    digest alert. Urgent alerts, off unless `urgent_role_id` is set: an alert (or digest) whose highest flag
    score reaches `urgent_threshold` mentions that role, the only mention modassist ever sends.
    """

    burst_max_alerts: int = Field(default=5, ge=1)
    burst_window_seconds: float = Field(default=60.0, gt=0.0)
    retry_base_seconds: float = Field(default=2.0, gt=0.0)
    retry_max_seconds: float = Field(default=600.0, gt=0.0)
    max_attempts: int = Field(default=8, ge=1)
    poll_interval_seconds: float = Field(default=1.0, gt=0.0)
    lease_seconds: float = Field(default=120.0, gt=0.0)
    batch_size: int = Field(default=100, ge=1, le=10_000)
    urgent_role_id: int | None = Field(default=None, gt=0)
    urgent_threshold: float = Field(default=0.9, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _backoff_bounds(self) -> AlertSettings:
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must be at least retry_base_seconds")
        return self

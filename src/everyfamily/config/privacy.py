"""``privacy:``: disclosure control, keys and encryption at rest."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from everyfamily.config.base import Strict

RoundingRule = Literal["midpoint6", "nearest5", "none"]


class PrivacySettings(Strict):
    suppress_at_or_below: int = Field(
        7, ge=0, description="Released counts at or below this are suppressed (OpenSAFELY: 7)."
    )
    rounding: RoundingRule = Field(
        "midpoint6", description="Rounding of released counts: midpoint6, nearest5 or none."
    )
    release_method: Literal["cell_key", "suppress_round"] = Field(
        "cell_key",
        description="How released counts are protected: cell_key (ONS/ABS cell key "
        "perturbation, consistent in every table; docs/privacy.md) or suppress_round "
        "(primary and secondary suppression, then rounding).",
    )
    key_env: str = Field(
        "EVERYFAMILY_KEY",
        description="Environment variable holding the pseudonymisation key (never the key itself).",
    )
    key_file: Path | None = Field(
        None, description="File holding the pseudonymisation key, kept apart from the data."
    )
    encrypt_at_rest: bool = Field(
        True,
        description="Encrypt both stores of a run (AES-GCM, keys derived from the "
        "pseudonymisation key). Turn off only where the disk itself is encrypted.",
    )

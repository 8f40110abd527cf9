"""Origin groups and how each recorded signal points to one: ``everyfamily.origin_groups``
(a code list below every package, so the find stage can read it too), under the name the
communities package has always used."""

from everyfamily.origin_groups import (
    COUNTRY_GROUPS,
    ENGLISH_LANGUAGES,
    ETHNICITY_GROUP,
    GROUP_LABELS,
    GROUPS,
    HOME_COUNTRIES,
    LANGUAGE_GROUPS,
    SIGNALS,
    group_from_country,
    group_from_ethnicity,
    group_from_language,
)

__all__ = [
    "COUNTRY_GROUPS",
    "ENGLISH_LANGUAGES",
    "ETHNICITY_GROUP",
    "GROUPS",
    "GROUP_LABELS",
    "HOME_COUNTRIES",
    "LANGUAGE_GROUPS",
    "SIGNALS",
    "group_from_country",
    "group_from_ethnicity",
    "group_from_language",
]

"""Privacy safeguards: keyed pseudonyms (this package; disclosure control lives beside it).

The pseudonymisation key is held apart from the data (a key file or an environment variable)
so that a copy of the store alone cannot re-create or reverse the ids.
"""

from everyfamily.privacy.pseudonyms import MIN_KEY_BYTES, load_key, pseudonym

__all__ = ["MIN_KEY_BYTES", "load_key", "pseudonym"]

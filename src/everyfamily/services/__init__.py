"""Which services know each child and what each centre offers (issue 17, "new resources"
and "different stores stock different products"); the cores are planning/overlap.py and
planning/offer.py, the stage is services/stage.py."""

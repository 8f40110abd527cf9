"""Ingest: read a council's exports, map, validate, standardise, quarantine; lose nothing."""

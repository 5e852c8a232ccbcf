"""Inbound adapters' pure half: raw channel payloads to masked messages."""

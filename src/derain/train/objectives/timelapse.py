"""Objective module (being written)."""

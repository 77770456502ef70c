"""Importers of hardware descriptions written for other tools (SCALE-Sim ``.cfg``)."""

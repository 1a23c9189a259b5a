"""Fixtures for metric tests (the I3D weight fixtures ``i3d_home`` / ``i3d_weights`` live in the root
conftest, since training-time evaluation tests use them too)."""

from __future__ import annotations

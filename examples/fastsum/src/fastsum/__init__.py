"""Compensated summation of floats, in C."""

from ._fastsum import ksum

__all__ = ["ksum"]

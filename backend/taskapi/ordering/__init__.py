"""Manual order, for tasks and lists alike: fractional keys (positions.py) and a place among siblings
(siblings.py). Below tasks/ and lists/, which both use it."""

"""Deciding what to do: pure decisions and conditions, and the one orchestrator that does I/O."""

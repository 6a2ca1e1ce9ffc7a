"""Playbooks: the written response plan per incident type, and the tasks it gives an incident."""

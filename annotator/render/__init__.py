"""Render: the self-contained HTML report."""

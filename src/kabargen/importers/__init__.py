"""Importers: turn releases kept in other forms into kabargen Markdown files."""

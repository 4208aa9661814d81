"""Marts: SQL models over other assets, rebuilt whole or per daily partition."""

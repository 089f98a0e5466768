"""Helm charts of stockwatch; `charts.tests` holds their tests (a package so test module names stay unique)."""

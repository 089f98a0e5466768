"""Tests of charts/stockwatch, helmfile.yaml, the images and skaffold.yaml against the real tools."""

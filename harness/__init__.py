"""Offline LEAN harness: a fake AlgorithmImports, a synthetic option market, fills and a runner."""

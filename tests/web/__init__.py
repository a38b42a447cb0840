"""Web app and HTTP API tests: in process (TestClient), against `deelwijs serve` in a
subprocess, and in real headless Chromium (Playwright, axe-core)."""

"""summary.json and coverage.json against their JSON Schemas in docs/ (every key described there)."""
import json

import jsonschema
import pytest

from conftest import ROOT, SCENARIOS, read_summary

SCHEMAS = {name: json.loads((ROOT / "docs" / f"{name}.schema.json").read_text()) for name in ("summary", "coverage")}


def _validate(name, doc):
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}"
              for e in jsonschema.Draft202012Validator(SCHEMAS[name]).iter_errors(doc)]
    assert not errors, "\n".join(errors[:10])


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_key_of_the_schemas_is_described(name):
    Draft = jsonschema.Draft202012Validator
    Draft.check_schema(SCHEMAS[name])
    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    missing.append(f"{path}.{key}")
                walk(sub, f"{path}.{key}")
            for k in ("additionalProperties", "items"):
                if isinstance(node.get(k), dict):
                    walk(node[k], f"{path}[]")
            for sub in node.get("oneOf", []):
                walk(sub, path)
            # every object is closed: a key the code adds without documenting it fails validation
            if node.get("type") in ("object", ["object", "null"]) and "properties" in node:
                assert node.get("additionalProperties") is False, path
    walk(SCHEMAS[name], name)
    assert not missing, missing


@pytest.mark.parametrize("scenario", sorted(p.name for p in SCENARIOS.glob("*.toml")))
def test_every_shipped_scenarios_summary_follows_the_schema(run_cli, tmp_path, scenario):
    code, _, err = run_cli("run", SCENARIOS / scenario, "--campaigns", 4, "--out", tmp_path / "o", "-q")
    assert code == 0, err
    _validate("summary", read_summary(tmp_path / "o"))


@pytest.mark.slow
def test_a_briefs_summary_follows_the_schema(run_cli, tmp_path):
    # the brief adds the altitude curve and the sensitivity (P(detect) and P(stopped)); a what-if and outages
    code, _, err = run_cli("brief", SCENARIOS / "iraq_2012_f16_balad.toml", "--campaigns", 3, "--flights", 4,
                           "--set", "detection.terrain=false", "--set", "detection.mean_outage_days=2",
                           "--out", tmp_path / "b", "-q")
    assert code == 0, err
    s = read_summary(tmp_path / "b")
    assert {"altitude_sweep", "sensitivity", "response"} <= set(s) and s["overrides"]
    _validate("summary", s)


@pytest.mark.parametrize("level", [("--altitude-m", 3000), ("--agl-m", 300)])
def test_coverage_json_follows_the_schema(run_cli, tmp_path, level):
    code, _, err = run_cli("coverage", SCENARIOS / "iraq_2012_low_level.toml", *level, "--out", tmp_path / "c", "-q")
    assert code == 0, err
    _validate("coverage", json.loads((tmp_path / "c" / "coverage.json").read_text()))

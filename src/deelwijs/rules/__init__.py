"""Rules as data: the YAML rulesets (data/), their loader and checks (loader), readable tables
(show), and worked examples that are also tests (scenario, scenarios/)."""

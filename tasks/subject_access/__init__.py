"""Subject access: the extract the personal-data map leads to, redacted, packaged and encrypted.

- `extract`: follow the map from a person's identifiers to every row about them; redact other people;
- `describe`: what the package says about each category (source, retention);
- `package`, `summary`: data.json, CSVs, the HTML summary, the AES-256 ZIP and its manifests;
- `service`: the steps of a request (register, begin, extract, check, package, finish, progress);
- `flow_tasks`: the Prefect task wrappers the `subject_access` flow calls.
"""

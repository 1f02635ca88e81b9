//! Settings: `config/*.toml` with `RINGMASTER_*` environment overrides.

mod fake_entra;
mod store_conformance;
mod support;

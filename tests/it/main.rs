mod store_conformance;

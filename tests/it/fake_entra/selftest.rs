//! Self-tests of the fake (being written).

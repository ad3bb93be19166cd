//! What the server's tests share. Not every test file uses every piece.
#![allow(dead_code)]

use std::time::Duration;

/// How long any one wait may take before the test fails: far longer than anything takes.
pub const WAIT: Duration = Duration::from_secs(10);

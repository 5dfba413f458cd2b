//! CPython: versions users ask for, the python-build-standalone index that says which exist for
//! each target, and fetching it.

pub mod download;
pub mod fetch;
pub mod index;
pub mod version;

pub use index::{Archive, Availability, PythonIndex};
pub use version::{FullVersion, PythonVersion};

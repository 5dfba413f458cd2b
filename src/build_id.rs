//! The key of everything per build: a CPython version on a target (`cp313-manylinux_2_17_x86_64`,
//! cibuildwheel's build identifier). Selectors match it, the matrix has one cell per id, the
//! plan one build and one test job, the executor and the report key their results by it.

use crate::python::PythonVersion;
use crate::target::Target;
use serde::Serialize;
use std::fmt;

/// One cell of the matrix: a Python version on a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuildId {
    pub target: Target,
    pub python: PythonVersion,
}

impl fmt::Display for BuildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.python.cp_tag(), self.target.tag())
    }
}

impl Serialize for BuildId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

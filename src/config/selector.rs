//! The glob patterns of `skip`, `only` and `[[overrides]] select`, matched against build
//! identifiers ([`crate::build_id::BuildId`]).

use crate::build_id::BuildId;

/// A shell-style glob: `*`, `?`, `[abc]`, `[!abc]` and `{a,b}`, matched against whole
/// identifiers.
#[derive(Clone, Debug)]
pub struct Glob {
    pub text: String,
    re: regex::Regex,
}

impl Glob {
    pub fn new(text: &str) -> Result<Glob, String> {
        let mut re = String::from("^");
        let mut chars = text.chars().peekable();
        let mut braces = 0usize;
        while let Some(c) = chars.next() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                '[' => {
                    let mut class = String::from("[");
                    if chars.peek() == Some(&'!') {
                        chars.next();
                        class.push('^');
                    }
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == ']' {
                            closed = true;
                            break;
                        }
                        if c == '\\' || c == '[' || c == '^' {
                            class.push('\\');
                        }
                        class.push(c);
                    }
                    if !closed {
                        return Err(format!("unclosed `[` in `{text}`"));
                    }
                    if class == "[" || class == "[^" {
                        return Err(format!("empty `[]` in `{text}`: a class names at least one character"));
                    }
                    class.push(']');
                    re.push_str(&class);
                }
                '{' => {
                    braces += 1;
                    re.push_str("(?:");
                }
                ',' if braces > 0 => re.push('|'),
                '}' if braces > 0 => {
                    braces -= 1;
                    re.push(')');
                }
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        if braces > 0 {
            return Err(format!("unclosed `{{` in `{text}`"));
        }
        re.push('$');
        let re = regex::Regex::new(&re).map_err(|_| {
            format!("`{text}` is not a valid pattern: a `[…]` class in it is malformed (a range such as `z-a`?)")
        })?;
        Ok(Glob { text: text.to_string(), re })
    }

    pub fn matches(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    pub fn is_literal(&self) -> bool {
        !self.text.contains(['*', '?', '[', '{'])
    }
}

/// Any of several globs.
#[derive(Clone, Debug, Default)]
pub struct Patterns(pub Vec<Glob>);

impl Patterns {
    pub fn matches(&self, id: &BuildId) -> bool {
        let s = id.to_string();
        self.0.iter().any(|g| g.matches(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::PythonVersion;

    fn m(p: &str, s: &str) -> bool {
        Glob::new(p).unwrap().matches(s)
    }

    #[test]
    fn globs() {
        assert!(m("cp312-*", "cp312-manylinux_2_17_x86_64"));
        assert!(!m("cp312-*", "cp313-manylinux_2_17_x86_64"));
        assert!(m("*-win_amd64", "cp310-win_amd64"));
        assert!(m("cp31[23]-*", "cp313-win_amd64"));
        assert!(!m("cp31[!23]-*", "cp313-win_amd64"));
        assert!(m("cp3?-*", "cp39-win_amd64"));
        assert!(m("*-{win_amd64,macosx_*}", "cp312-macosx_11_0_arm64"));
        assert!(!m("*-{win_amd64,macosx_*}", "cp312-manylinux_2_17_x86_64"));
        assert!(m("cp312-manylinux_2_17_x86_64", "cp312-manylinux_2_17_x86_64"));
        assert!(!m("cp312-manylinux", "cp312-manylinux_2_17_x86_64"));
        assert!(Glob::new("cp3[12").is_err());
        assert!(Glob::new("{a,b").is_err());
    }

    #[test]
    fn identifiers() {
        let id = BuildId { target: crate::target::Platform::WinAmd64.target(), python: PythonVersion::new(12) };
        assert_eq!(id.to_string(), "cp312-win_amd64");
    }
}

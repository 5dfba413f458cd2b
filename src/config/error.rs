//! Diagnostics for bad input: each points at the value in pookie.toml (or the command-line
//! flag) that caused it and says how to fix it. Bad input exits with code 2.

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// Where a setting came from, so an error can point at it.
#[derive(Clone, Debug)]
pub enum Origin {
    /// A span of the configuration file.
    File(Range<usize>),
    /// A span of the command line (as [`Sources::cli`] renders it).
    Flag(Range<usize>),
    /// Nobody wrote it: pookie's default.
    Default,
}

/// A setting's value with where it came from: every setting a later diagnostic points at is
/// kept this way.
#[derive(Clone, Debug)]
pub struct WithOrigin<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> WithOrigin<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        WithOrigin { value, origin }
    }

    /// pookie's own choice: nobody wrote it.
    pub fn default_value(value: T) -> Self {
        WithOrigin { value, origin: Origin::Default }
    }
}

impl<'a, T> IntoIterator for &'a WithOrigin<Vec<T>> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.value.iter()
    }
}

impl<T> std::ops::Deref for WithOrigin<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Spans at or past this offset are of the machine's configuration file (its values are laid
/// beneath the project's with their spans shifted by it), so diagnostics quote the right file.
pub const MACHINE_SPANS: usize = 1 << 40;

/// The texts diagnostics quote: the configuration file, the machine's, and the command line.
#[derive(Clone, Debug)]
pub struct Sources {
    pub file: Option<(String, Arc<String>)>,
    /// The machine's configuration file, whose spans start at [`MACHINE_SPANS`].
    pub machine: Option<(String, Arc<String>)>,
    pub cli: Arc<String>,
    /// Byte offset of each argument in `cli`.
    arg_offsets: Vec<Range<usize>>,
    args: Vec<String>,
}

impl Sources {
    pub fn new(args: &[String]) -> Self {
        // Quote the program by its name, not the path it was started from.
        let mut args = args.to_vec();
        if let Some(program) = args.first_mut()
            && let Some(name) = std::path::Path::new(program.as_str()).file_name()
        {
            *program = name.to_string_lossy().into_owned();
        }
        let mut cli = String::new();
        let mut arg_offsets = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                cli.push(' ');
            }
            let start = cli.len();
            cli.push_str(a);
            arg_offsets.push(start..cli.len());
        }
        Sources { file: None, machine: None, cli: Arc::new(cli), arg_offsets, args }
    }

    /// The span of `value` as given to `flag` on the command line (`--flag value`, `--flag a b`,
    /// `--flag=value`, `-j4`); the whole line when it cannot be found.
    pub fn flag(&self, flag: &str, value: &str) -> Origin {
        self.find_flag(flag, value).unwrap_or(Origin::Flag(0..self.cli.len()))
    }

    /// Like [`Sources::flag`] for a flag with several spellings (`--jobs`, `-j`).
    pub fn flag_any(&self, flags: &[&str], value: &str) -> Origin {
        flags.iter().find_map(|f| self.find_flag(f, value)).unwrap_or(Origin::Flag(0..self.cli.len()))
    }

    fn find_flag(&self, flag: &str, value: &str) -> Option<Origin> {
        for (i, a) in self.args.iter().enumerate() {
            let r = &self.arg_offsets[i];
            let owner = self.args[..i].iter().rposition(|p| p.starts_with('-')).map(|o| self.args[o].as_str());
            if a == value && owner == Some(flag) {
                return Some(Origin::Flag(r.clone()));
            }
            let joined = a.strip_prefix(flag).map(|rest| rest.strip_prefix('=').unwrap_or(rest));
            if a != flag && joined == Some(value) {
                return Some(Origin::Flag(r.end - value.len()..r.end));
            }
        }
        None
    }
}

/// A configuration or command-line error (boxed: it travels in every `Result` of config).
#[derive(Debug)]
pub struct ConfigError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    message: String,
    code: &'static str,
    help: Option<String>,
    label: String,
    source: Option<NamedSource<Arc<String>>>,
    span: Option<SourceSpan>,
}

impl ConfigError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ConfigError(Box::new(Inner {
            // Messages quote what the user wrote: never let it drive the terminal.
            message: printable(&message.into()),
            code,
            help: None,
            label: String::new(),
            source: None,
            span: None,
        }))
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.0.help = Some(printable(&help.into()));
        self
    }

    /// Points the error at `origin`, with `label` under the quoted text.
    pub fn at(mut self, sources: &Sources, origin: &Origin, label: impl Into<String>) -> Self {
        let e = &mut self.0;
        e.label = printable(&label.into());
        match origin {
            Origin::File(r) if r.start >= MACHINE_SPANS => {
                if let Some((name, text)) = &sources.machine {
                    e.source = Some(NamedSource::new(name, text.clone()).with_language("toml"));
                    e.span = Some((r.start - MACHINE_SPANS..r.end - MACHINE_SPANS).into());
                }
            }
            Origin::File(r) => {
                if let Some((name, text)) = &sources.file {
                    e.source = Some(NamedSource::new(name, text.clone()).with_language("toml"));
                    e.span = Some(r.clone().into());
                }
            }
            Origin::Flag(r) => {
                e.source = Some(NamedSource::new("command line", sources.cli.clone()));
                e.span = Some(r.clone().into());
            }
            Origin::Default => {}
        }
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for ConfigError {}

impl Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("pookie::config::{}", self.0.code)))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.0.span?;
        let label = (!self.0.label.is_empty()).then(|| self.0.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(label, span))))
    }
}

/// `s` with its control characters escaped (`\u{1b}`), except the line breaks and tabs of
/// multi-line messages.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A file's text as diagnostics quote it: every control character but line breaks and tabs
/// replaced by characters of the same length in bytes, so spans into the text stay right.
pub fn quotable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => c,
            c if c.is_control() && c.len_utf8() == 1 => '?',
            c if c.is_control() => '\u{bf}', // C1 controls are two bytes, as is `¿`
            c => c,
        })
        .collect()
}

/// "did you mean" for `word` among `candidates`.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

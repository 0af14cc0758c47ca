//! Errors of `netcap label`. Every error about an input names the file, and
//! the line where there is one.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// A ground-truth file has something the labeller cannot read.
    #[error("{}:{line}: {message}", file.display())]
    Input { file: PathBuf, line: u64, message: String },
    /// A file as a whole (unreadable, not the expected format).
    #[error("{}: {message}", file.display())]
    File { file: PathBuf, message: String },
    #[error("{}: {source}", file.display())]
    Io { file: PathBuf, source: std::io::Error },
    /// An option's value.
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Records(#[from] netcap_records::ReadError),
    /// Writing an output file.
    #[error("writing {}: {message}", file.display())]
    Output { file: PathBuf, message: String },
}

impl LabelError {
    pub(crate) fn input(file: &std::path::Path, line: u64, message: impl Into<String>) -> LabelError {
        LabelError::Input { file: file.to_owned(), line, message: message.into() }
    }

    pub(crate) fn io(file: &std::path::Path, source: std::io::Error) -> LabelError {
        LabelError::Io { file: file.to_owned(), source }
    }

    pub(crate) fn output(file: &std::path::Path, message: impl std::fmt::Display) -> LabelError {
        LabelError::Output { file: file.to_owned(), message: message.to_string() }
    }
}

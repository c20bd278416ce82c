//! Exit codes, and how a failure maps to one.

use std::{fmt, process::ExitCode};

use shipstream_inventory::Error;

/// The exit codes, as shown by `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (also: a finished checkpoint, nothing left to do)
  1  local I/O failure (cannot write the output or checkpoint, cannot bind the port)
  2  usage or bad input (bad option or filter, missing URL or token, checkpoint mismatch)
  3  authentication refused (401, 403, expired token)
  4  other API error (400, 404, 429 or 5xx after retries, ...)
  5  network failure after retries (connection refused or broken, timeout)
  6  pagination or contract violation (paging loop, off-origin next, undecodable page or
     record)";

/// What the process exits with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// 0
    Ok = 0,
    /// 1: the output, checkpoint or listening socket failed locally.
    Io = 1,
    /// 2: usage or bad input.
    Usage = 2,
    /// 3: authentication or permission refused.
    Auth = 3,
    /// 4: any other API error.
    Api = 4,
    /// 5: network failure after retries.
    Network = 5,
    /// 6: pagination or contract violation.
    Contract = 6,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code as u8)
    }
}

/// The exit code for an error of the SDK.
pub fn code_of(e: &Error) -> Code {
    if e.is_config() || e.is_invalid_request() {
        Code::Usage
    } else if e.is_unauthorized() || e.is_forbidden() {
        Code::Auth
    } else if e.is_network() || e.is_timeout() {
        Code::Network
    } else if e.is_pagination() || e.is_decode() || e.is_record() {
        Code::Contract
    } else {
        Code::Api
    }
}

/// A failure that ends the command: a message for stderr and an exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: Code,
    /// What went wrong and what to do (printed after `error: `).
    pub message: String,
}

impl Failure {
    /// A failure with this code.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::Usage, message)
    }

    /// Exit 1.
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(Code::Io, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Error> for Failure {
    /// The error's message followed by its causes (`source()`), each once.
    fn from(e: Error) -> Self {
        let mut message = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            message.push_str(&format!(": {c}"));
            cause = c.source();
        }
        Self::new(code_of(&e), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_numbers() {
        let all = [
            (Code::Ok, 0),
            (Code::Io, 1),
            (Code::Usage, 2),
            (Code::Auth, 3),
            (Code::Api, 4),
            (Code::Network, 5),
            (Code::Contract, 6),
        ];
        for (code, n) in all {
            assert_eq!(code as u8, n);
            assert!(EXIT_CODES_HELP.contains(&format!("  {n}  ")), "{n}");
        }
    }

    #[test]
    fn config_errors_are_usage_errors() {
        let e = shipstream_inventory::Client::builder()
            .token("t")
            .build()
            .err();
        assert!(e.is_some_and(|e| code_of(&e) == Code::Usage));
        let e = shipstream_inventory::Client::builder()
            .base_url("http://example.com")
            .token("t")
            .build()
            .err();
        assert!(e.is_some_and(|e| code_of(&e) == Code::Usage));
    }
}

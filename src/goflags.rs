//! Go-style flags (`-read x`, `-csv=false`) on top of clap.
//!
//! clap reads `-read` as the short cluster `-r -e -a -d`, so argv is
//! rewritten before parsing: a single-dash token whose name is a long flag
//! of the command being parsed becomes `--name`. The names come from clap's
//! own `Command`, so the rewrite cannot drift from the flag definitions, and
//! help, errors and `--name` keep working as clap makes them.

use clap::Command;
use std::ffi::OsString;

/// Returns `args` with Go-style long flags turned into GNU-style ones.
pub fn rewrite(command: &Command, args: Vec<OsString>) -> Vec<OsString> {
    let mut command = command.clone();
    command.build();
    let mut current = &command;
    let mut out = Vec::with_capacity(args.len());
    let mut tokens = args.into_iter().peekable();
    if let Some(program) = tokens.next() {
        out.push(program);
    }
    while let Some(token) = tokens.next() {
        let Some(text) = token.to_str() else {
            out.push(token);
            continue;
        };
        if text == "--" {
            out.push(token);
            out.extend(tokens);
            break;
        }
        if let Some(sub) = current.find_subcommand(text) {
            current = sub;
            out.push(token);
            continue;
        }
        if let Some(long) = text.strip_prefix("--").filter(|l| !l.contains('=')) {
            // A GNU-style flag's separate value is passed on as it is, even
            // if it looks like a flag (`--read -odd`).
            let takes_value = find_long(current, long).is_some_and(needs_value);
            out.push(token);
            if takes_value && let Some(value) = tokens.next() {
                out.push(value);
            }
            continue;
        }
        let Some(body) = text.strip_prefix('-').filter(|b| b.len() > 1 && !b.starts_with('-')) else {
            out.push(token);
            continue;
        };
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        if name == "help" || name == "version" {
            out.push(format!("--{body}").into());
            continue;
        }
        let Some(arg) = find_long(current, name) else {
            // An unknown Go-style name is reported whole (`--separator`),
            // not as the cluster of short flags clap would read (`-s`).
            if is_flag_name(name) && !is_short_with_number(current, name) {
                out.push(format!("--{body}").into());
            } else {
                out.push(token);
            }
            continue;
        };
        let needs_value = needs_value(arg);
        match tokens.peek() {
            // As in Go, the token after a value-taking flag is its value,
            // even if it starts with a dash.
            Some(next) if value.is_none() && needs_value => {
                let mut joined = OsString::from(format!("--{name}="));
                joined.push(next);
                out.push(joined);
                tokens.next();
            }
            _ => out.push(format!("--{body}").into()),
        }
    }
    out
}

/// The argument whose long name or alias is `name`.
fn find_long<'c>(command: &'c Command, name: &str) -> Option<&'c clap::Arg> {
    command
        .get_arguments()
        .find(|a| a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|aliases| aliases.contains(&name)))
}

/// Whether the flag needs a value (so the next token is that value).
fn needs_value(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values() && arg.get_num_args().is_some_and(|n| n.min_values() > 0)
}

/// A name as flags are spelt: a letter, then letters, digits, `-` or `_`.
/// Negative numbers and other values starting with `-` are not names.
fn is_flag_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `-n10`: a short flag with its number attached, as getopt allows.
fn is_short_with_number(command: &Command, name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else { return false };
    let rest = chars.as_str();
    !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_digit())
        && command.get_arguments().any(|a| a.get_short() == Some(first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::CommandFactory;

    fn rewritten(args: &str) -> String {
        let args = args.split(' ').map(OsString::from).collect();
        let out = rewrite(&Cli::command(), args);
        out.iter().map(|s| s.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn go_style_flags_become_gnu_style() {
        assert_eq!(rewritten("netcap dump -read x -csv"), "netcap dump --read=x --csv");
        assert_eq!(rewritten("netcap dump --read x --csv"), "netcap dump --read x --csv");
        assert_eq!(rewritten("netcap dump -read=x -csv=false"), "netcap dump --read=x --csv=false");
        assert_eq!(rewritten("netcap dump -read -odd"), "netcap dump --read=-odd");
        assert_eq!(
            rewritten("netcap capture -read a.pcap -out o -workers 2"),
            "netcap capture --read=a.pcap --out=o --workers=2"
        );
        assert_eq!(rewritten("netcap capture -h"), "netcap capture -h");
        assert_eq!(rewritten("netcap -help"), "netcap --help");
        assert_eq!(rewritten("netcap dump -read x -- -csv"), "netcap dump --read=x -- -csv");
        // Unknown names are reported whole by clap, not as short clusters.
        assert_eq!(rewritten("netcap dump -bogus"), "netcap dump --bogus");
        assert_eq!(rewritten("netcap query -separator x"), "netcap query --separator x");
        assert_eq!(rewritten("netcap query -n10"), "netcap query -n10");
        assert_eq!(rewritten("netcap dump -read x -5"), "netcap dump --read=x -5");
        // A GNU-style flag's value is left alone even if it looks like a flag.
        assert_eq!(rewritten("netcap dump --read -odd"), "netcap dump --read -odd");
    }

    #[test]
    fn every_go_style_invocation_parses() {
        use clap::Parser;
        for args in [
            "netcap dump -read x -csv",
            "netcap dump -read x -csv=false -json",
            "netcap capture -read a.pcap -out o -include TCP,UDP -payload -errors",
            "netcap capture -iface lo -bpf tcp -promisc=false -snaplen 96",
        ] {
            let argv: Vec<OsString> = args.split(' ').map(OsString::from).collect();
            Cli::try_parse_from(rewrite(&Cli::command(), argv)).unwrap_or_else(|e| panic!("{args}: {e}"));
        }
    }

    #[test]
    fn no_long_flag_reads_as_a_cluster_of_short_flags() {
        // With only single-letter shorts that spell no long name, `-read`
        // can never mean `-r -e -a -d` even without the rewrite.
        let mut command = Cli::command();
        command.build();
        for sub in command.get_subcommands() {
            let shorts: Vec<char> = sub.get_arguments().filter_map(|a| a.get_short()).collect();
            for arg in sub.get_arguments() {
                if let Some(long) = arg.get_long() {
                    assert!(
                        !long.chars().all(|c| shorts.contains(&c)),
                        "{} -{long} could be read as short flags",
                        sub.get_name()
                    );
                }
            }
        }
    }
}

//! End-to-end tests of the netcap binary: one integration-test binary, one
//! module per subject.

mod util;

mod app_oracle;
mod capture;
mod detect;
mod distributed;
mod dump;
mod export;
mod flags;
mod ftp;
mod imap;
mod integrity;
mod inventory;
mod irc;
mod kerberos;
mod label;
mod live;
mod malformed;
mod net_oracle;
mod oracle;
mod pop3;
mod profile_oracle;
mod query;
mod rdp;
mod smtp;
mod socks;
mod ssh;
mod stream_oracle;
mod telnet;

//! Reading Connection files, filtering, grouping, ranking.

use crate::attr::{Attribute, ip_protocol_name};
use crate::condition::Fields;
use crate::record::ConnectionView;
use crate::{Query, SortBy};
use foldhash::fast::RandomState;
use netcap_records::{FILE_EXTENSION, ReadError, RecordReader, RecordType};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Error that stops a query before it produces a result.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{file}: holds {record_type} records; netcap query reads Connection records")]
    NotConnection { file: String, record_type: &'static str },
    #[error("{dir}: {source}")]
    Dir { dir: String, source: std::io::Error },
    #[error("{dir}: no Connection record files (*{FILE_EXTENSION}) in this directory")]
    NoConnectionFiles { dir: String },
    #[error("no input: give record files or directories")]
    NoInput,
}

/// Per-group sums. "out" is client to server, "in" server to client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets_in: u64,
    pub packets_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub connections: u64,
}

impl Counters {
    pub fn packets(&self) -> u64 {
        self.packets_in.saturating_add(self.packets_out)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes_in.saturating_add(self.bytes_out)
    }

    fn add(&mut self, other: &Counters) {
        self.packets_in = self.packets_in.saturating_add(other.packets_in);
        self.packets_out = self.packets_out.saturating_add(other.packets_out);
        self.bytes_in = self.bytes_in.saturating_add(other.bytes_in);
        self.bytes_out = self.bytes_out.saturating_add(other.bytes_out);
        self.connections = self.connections.saturating_add(other.connections);
    }

    fn metric(&self, sort: SortBy) -> u64 {
        match sort {
            SortBy::Bytes => self.bytes(),
            SortBy::Packets => self.packets(),
            SortBy::Connections => self.connections,
        }
    }
}

/// One result row: the values of the grouped attributes (the others are at
/// their defaults) and the sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `None` when the record's address did not parse (or was empty).
    pub sip: Option<IpAddr>,
    pub dip: Option<IpAddr>,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub app: String,
    pub counters: Counters,
}

impl Row {
    /// The value of `attr` as text (protocols by name; "" for a missing
    /// address or application).
    pub fn label(&self, attr: Attribute) -> String {
        match attr {
            Attribute::Sip => self.sip.map(|ip| ip.to_string()).unwrap_or_default(),
            Attribute::Dip => self.dip.map(|ip| ip.to_string()).unwrap_or_default(),
            Attribute::Sport => self.sport.to_string(),
            Attribute::Dport => self.dport.to_string(),
            Attribute::Proto => ip_protocol_name(self.proto).into_owned(),
            Attribute::App => self.app.clone(),
        }
    }

    fn cmp_labels(&self, other: &Row) -> Ordering {
        (self.sip, self.dip, self.sport, self.dport, self.proto, &self.app).cmp(&(
            other.sip,
            other.dip,
            other.sport,
            other.dport,
            other.proto,
            &other.app,
        ))
    }
}

/// The answer to a query.
#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    pub group: Vec<Attribute>,
    /// Ranked rows, at most `limit` of them.
    pub rows: Vec<Row>,
    /// Number of groups before the limit was applied.
    pub hits: usize,
    /// Sums over all groups (not only the rows kept).
    pub totals: Counters,
    pub connections_read: u64,
    pub connections_matched: u64,
    /// First packet of the earliest matching connection, last packet of the
    /// latest (Unix ns).
    pub first_ns: Option<i64>,
    pub last_ns: Option<i64>,
    pub files: usize,
    /// Damaged inputs: everything before the damage was counted.
    pub warnings: Vec<String>,
}

/// Group key; attributes not grouped by stay at their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    sip: Option<IpAddr>,
    dip: Option<IpAddr>,
    sport: u16,
    dport: u16,
    proto: u8,
    /// Index into `Partial::apps`.
    app: u32,
}

/// What a query needs from each record, decided once.
pub(crate) struct Plan<'q> {
    query: &'q Query,
    parse_sip: bool,
    parse_dip: bool,
    group: [bool; 6],
}

impl<'q> Plan<'q> {
    pub(crate) fn new(query: &'q Query) -> Self {
        let has = |a: Attribute| query.group.contains(&a);
        let condition_ips = query.condition.as_ref().is_some_and(|c| c.uses_addresses());
        let mut group = [false; 6];
        for (i, attr) in Attribute::ALL.iter().enumerate() {
            group[i] = has(*attr);
        }
        Plan {
            query,
            parse_sip: condition_ips || has(Attribute::Sip),
            parse_dip: condition_ips || has(Attribute::Dip),
            group,
        }
    }
}

/// Aggregates of one thread's share of the input.
pub(crate) struct Partial {
    groups: HashMap<Key, Counters, RandomState>,
    apps: Vec<Box<str>>,
    app_ids: HashMap<Box<str>, u32, RandomState>,
    read: u64,
    matched: u64,
    first_ns: i64,
    last_ns: i64,
    pub(crate) files: usize,
    warnings: Vec<String>,
}

impl Partial {
    pub(crate) fn new() -> Self {
        Partial {
            groups: HashMap::default(),
            apps: Vec::new(),
            app_ids: HashMap::default(),
            read: 0,
            matched: 0,
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            files: 0,
            warnings: Vec::new(),
        }
    }

    fn app_id(&mut self, app: &str) -> u32 {
        if let Some(id) = self.app_ids.get(app) {
            return *id;
        }
        let id = self.apps.len() as u32;
        self.apps.push(app.into());
        self.app_ids.insert(app.into(), id);
        id
    }

    #[inline]
    pub(crate) fn add(&mut self, plan: &Plan<'_>, v: &ConnectionView<'_>) {
        self.read += 1;
        let query = plan.query;
        let end_ns = v.last_timestamp_ns.max(v.timestamp_ns);
        if query.first_ns.is_some_and(|first| end_ns < first) || query.last_ns.is_some_and(|last| v.timestamp_ns > last)
        {
            return;
        }
        let sip = if plan.parse_sip { crate::record::ip_of(v.src_ip) } else { None };
        let dip = if plan.parse_dip { crate::record::ip_of(v.dst_ip) } else { None };
        // Ports and protocol are uint32 on the wire; larger values cannot
        // come from a packet and saturate rather than alias a real port.
        let sport = u16::try_from(v.src_port).unwrap_or(u16::MAX);
        let dport = u16::try_from(v.dst_port).unwrap_or(u16::MAX);
        let proto = u8::try_from(v.ip_protocol).unwrap_or(u8::MAX);
        if let Some(condition) = &query.condition {
            let fields = Fields {
                sip,
                dip,
                sport,
                dport,
                proto,
                app: v.application_protocol,
                packets: v.packets,
                bytes: v.bytes,
                duration_ns: u64::try_from(v.duration_ns).unwrap_or(0),
            };
            if !condition.matches(&fields) {
                return;
            }
        }
        self.matched += 1;
        self.first_ns = self.first_ns.min(v.timestamp_ns);
        self.last_ns = self.last_ns.max(end_ns);
        let g = &plan.group;
        let key = Key {
            sip: if g[0] { sip } else { None },
            dip: if g[1] { dip } else { None },
            sport: if g[2] { sport } else { 0 },
            dport: if g[3] { dport } else { 0 },
            proto: if g[4] { proto } else { 0 },
            app: if g[5] { self.app_id(v.application_protocol) } else { 0 },
        };
        let counters = Counters {
            packets_in: v.server_packets,
            packets_out: v.client_packets,
            bytes_in: v.server_bytes,
            bytes_out: v.client_bytes,
            connections: 1,
        };
        self.groups.entry(key).or_default().add(&counters);
    }

    pub(crate) fn merge(mut self, other: Partial) -> Partial {
        if self.groups.len() < other.groups.len() {
            // Fold the smaller map into the larger one.
            return other.merge(self);
        }
        let remap: Vec<u32> = other.apps.iter().map(|app| self.app_id(app)).collect();
        for (mut key, counters) in other.groups {
            key.app = remap.get(key.app as usize).copied().unwrap_or(0);
            self.groups.entry(key).or_default().add(&counters);
        }
        self.read += other.read;
        self.matched += other.matched;
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        self.files += other.files;
        self.warnings.extend(other.warnings);
        self
    }

    pub(crate) fn read<R: Read>(&mut self, plan: &Plan<'_>, mut reader: RecordReader<R>, name: &str) {
        self.files += 1;
        let ascending = crate::frames::written_by_netcap(reader.header());
        loop {
            let next = reader.next_raw();
            match next {
                Ok(Some(bytes)) => match if ascending {
                    ConnectionView::decode_ascending(bytes)
                } else {
                    ConnectionView::decode(bytes)
                } {
                    Ok(view) => self.add(plan, &view),
                    Err(e) => {
                        let record = reader.records_read();
                        self.warnings.push(format!("{name}: corrupt at record {record}: {e}"));
                        return;
                    }
                },
                Ok(None) => return,
                Err(e) => {
                    self.warnings.push(e.to_string());
                    return;
                }
            }
        }
    }

    pub(crate) fn finish(self, query: &Query) -> QueryResult {
        let mut totals = Counters::default();
        let mut rows: Vec<Row> = self
            .groups
            .into_iter()
            .map(|(key, counters)| {
                totals.add(&counters);
                Row {
                    sip: key.sip,
                    dip: key.dip,
                    sport: key.sport,
                    dport: key.dport,
                    proto: key.proto,
                    app: if query.group.contains(&Attribute::App) {
                        self.apps.get(key.app as usize).map(|a| a.to_string()).unwrap_or_default()
                    } else {
                        String::new()
                    },
                    counters,
                }
            })
            .collect();
        let hits = rows.len();
        let sort = query.sort;
        let by_metric = |a: &Row, b: &Row| {
            let order = a.counters.metric(sort).cmp(&b.counters.metric(sort));
            let order = if query.ascending { order } else { order.reverse() };
            order.then_with(|| a.cmp_labels(b))
        };
        match query.limit {
            Some(limit) if limit < rows.len() => {
                // Partial selection, then a sort of what is kept.
                if limit > 0 {
                    rows.select_nth_unstable_by(limit - 1, by_metric);
                }
                rows.truncate(limit);
            }
            _ => {}
        }
        rows.sort_unstable_by(by_metric);
        let matched = self.matched;
        QueryResult {
            group: query.group.clone(),
            rows,
            hits,
            totals,
            connections_read: self.read,
            connections_matched: matched,
            first_ns: (matched > 0).then_some(self.first_ns),
            last_ns: (matched > 0).then_some(self.last_ns),
            files: self.files,
            warnings: self.warnings,
        }
    }
}

/// Expands `paths` into the Connection record files to read: a file is
/// taken as it is (and must hold Connection records, checked when it is
/// read); a directory contributes every `*.ncap.zst` whose header says
/// Connection, whatever its name (collectors rotate names).
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, QueryError> {
    if paths.is_empty() {
        return Err(QueryError::NoInput);
    }
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let dir = path.display().to_string();
        let entries = std::fs::read_dir(path).map_err(|source| QueryError::Dir { dir: dir.clone(), source })?;
        let mut found: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| QueryError::Dir { dir: dir.clone(), source })?;
            let candidate = entry.path();
            let named = candidate.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(FILE_EXTENSION));
            if named && candidate.is_file() && holds_connections(&candidate) {
                found.push(candidate);
            }
        }
        if found.is_empty() {
            return Err(QueryError::NoConnectionFiles { dir });
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Whether a file's header says Connection. Unreadable files are not
/// Connection files: in a directory they are someone else's.
fn holds_connections(path: &Path) -> bool {
    RecordReader::open(path).is_ok_and(|r| r.record_type() == RecordType::Connection)
}

fn open_connection_file(path: &Path) -> Result<RecordReader<std::fs::File>, QueryError> {
    let reader = RecordReader::open(path)?;
    check_type(&reader, &path.display().to_string())?;
    Ok(reader)
}

fn check_type<R: Read>(reader: &RecordReader<R>, name: &str) -> Result<(), QueryError> {
    match reader.record_type() {
        RecordType::Connection => Ok(()),
        other => Err(QueryError::NotConnection { file: name.to_string(), record_type: other.name() }),
    }
}

/// Runs `query` over record files, several at a time. Every file is opened
/// (and its type checked) before any is read, so a wrong file fails fast.
pub fn run(files: &[PathBuf], query: &Query) -> Result<QueryResult, QueryError> {
    let readers = files.iter().map(|f| open_connection_file(f)).collect::<Result<Vec<_>, _>>()?;
    let plan = Plan::new(query);
    let partial = readers
        .into_par_iter()
        .zip(files.par_iter())
        .map(|(reader, path)| {
            // Frames in parallel when the file allows; else (damage, or a
            // layout netcap does not write) streamed, with precise warnings.
            crate::frames::read(path, &plan).unwrap_or_else(|| {
                let mut partial = Partial::new();
                partial.read(&plan, reader, &path.display().to_string());
                partial
            })
        })
        .reduce(Partial::new, Partial::merge);
    Ok(partial.finish(query))
}

/// Runs `query` over already opened readers (standard input, for one), one
/// after the other.
pub fn run_readers<R: Read>(readers: Vec<(String, RecordReader<R>)>, query: &Query) -> Result<QueryResult, QueryError> {
    for (name, reader) in &readers {
        check_type(reader, name)?;
    }
    let plan = Plan::new(query);
    let mut partial = Partial::new();
    for (name, reader) in readers {
        partial.read(&plan, reader, &name);
    }
    Ok(partial.finish(query))
}

/// Runs `query` over decoded views (for tests and benchmarks).
pub fn run_views<'a>(views: impl IntoIterator<Item = ConnectionView<'a>>, query: &Query) -> QueryResult {
    let plan = Plan::new(query);
    let mut partial = Partial::new();
    for view in views {
        partial.add(&plan, &view);
    }
    partial.finish(query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Condition;

    /// Record bytes of an address, for views that live as long as the test.
    fn octets(ip: &str) -> &'static [u8] {
        let bytes = match ip.parse::<IpAddr>().unwrap() {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        Box::leak(bytes.into_boxed_slice())
    }

    fn view(
        sip: &'static str,
        dip: &'static str,
        dport: u32,
        app: &'static str,
        out: u64,
        inn: u64,
    ) -> ConnectionView<'static> {
        ConnectionView {
            timestamp_ns: 1_000,
            last_timestamp_ns: 2_000,
            duration_ns: 1_000,
            application_protocol: app,
            ip_protocol: 6,
            src_ip: octets(sip),
            dst_ip: octets(dip),
            src_port: 40_000,
            dst_port: dport,
            packets: out / 100 + inn / 100,
            bytes: out + inn,
            client_packets: out / 100,
            client_bytes: out,
            server_packets: inn / 100,
            server_bytes: inn,
        }
    }

    fn views() -> Vec<ConnectionView<'static>> {
        vec![
            view("10.0.0.1", "192.0.2.1", 443, "TLS", 1_000, 9_000),
            view("10.0.0.1", "192.0.2.1", 443, "TLS", 500, 500),
            view("10.0.0.2", "192.0.2.1", 443, "TLS", 100, 200),
            view("10.0.0.1", "192.0.2.9", 53, "DNS", 100, 300),
            view("172.16.0.1", "192.0.2.1", 80, "HTTP", 50_000, 100),
            view("2001:db8::1", "2001:db8::2", 443, "", 700, 700),
        ]
    }

    fn query(group: &str, condition: Option<&str>) -> Query {
        Query {
            group: Attribute::parse_list(group).unwrap(),
            condition: condition.map(|c| Condition::parse(c).unwrap()),
            ..Query::default()
        }
    }

    #[test]
    fn groups_sums_and_ranks() {
        let result = run_views(views(), &query("sip,dip", None));
        assert_eq!(result.hits, 5);
        assert_eq!(result.connections_read, 6);
        assert_eq!(result.connections_matched, 6);
        let labels: Vec<String> =
            result.rows.iter().map(|r| format!("{} {}", r.label(Attribute::Sip), r.label(Attribute::Dip))).collect();
        assert_eq!(
            labels,
            [
                "172.16.0.1 192.0.2.1",
                "10.0.0.1 192.0.2.1",
                "2001:db8::1 2001:db8::2",
                "10.0.0.1 192.0.2.9",
                "10.0.0.2 192.0.2.1"
            ]
        );
        let top = &result.rows[1].counters;
        assert_eq!(
            (top.bytes_out, top.bytes_in, top.packets_out, top.packets_in, top.connections),
            (1_500, 9_500, 15, 95, 2)
        );
        assert_eq!(result.totals.bytes(), 63_200);
        assert_eq!(result.totals.connections, 6);
        assert_eq!((result.first_ns, result.last_ns), (Some(1_000), Some(2_000)));
    }

    #[test]
    fn conditions_limits_sort_orders() {
        let result = run_views(views(), &query("dport", Some("dport = 443 and sip != 10.0.0.0/8")));
        assert_eq!(result.rows.len(), 1);
        assert_eq!(result.rows[0].dport, 443);
        assert_eq!(result.rows[0].counters.connections, 1);
        assert_eq!(result.connections_matched, 1);

        let mut q = query("sip", None);
        q.limit = Some(2);
        let result = run_views(views(), &q);
        assert_eq!(result.hits, 4);
        assert_eq!(result.rows.len(), 2);
        assert_eq!(result.rows[0].label(Attribute::Sip), "172.16.0.1");
        assert_eq!(result.totals.bytes(), 63_200, "totals cover every group, not only those shown");

        q.ascending = true;
        let result = run_views(views(), &q);
        let labels: Vec<String> = result.rows.iter().map(|r| r.label(Attribute::Sip)).collect();
        assert_eq!(labels, ["10.0.0.2", "2001:db8::1"]);

        q.sort = SortBy::Connections;
        q.ascending = false;
        q.limit = None;
        let result = run_views(views(), &q);
        assert_eq!(result.rows[0].label(Attribute::Sip), "10.0.0.1");
        assert_eq!(result.rows[0].counters.connections, 3);

        let mut q = query("app,proto", None);
        q.sort = SortBy::Packets;
        let result = run_views(views(), &q);
        let labels: Vec<String> =
            result.rows.iter().map(|r| format!("{}/{}", r.label(Attribute::App), r.label(Attribute::Proto))).collect();
        assert_eq!(labels, ["HTTP/TCP", "TLS/TCP", "/TCP", "DNS/TCP"]);

        let mut q = query("sip", None);
        q.limit = Some(0);
        assert!(run_views(views(), &q).rows.is_empty());
    }

    #[test]
    fn time_range_keeps_overlapping_connections() {
        let mut early = view("10.0.0.1", "192.0.2.1", 443, "TLS", 1, 1);
        early.timestamp_ns = 100;
        early.last_timestamp_ns = 200;
        let mut late = early;
        late.timestamp_ns = 300;
        late.last_timestamp_ns = 400;
        late.src_ip = octets("10.0.0.2");
        let run = |first, last| {
            let mut q = query("sip", None);
            q.first_ns = first;
            q.last_ns = last;
            run_views([early, late], &q).rows.iter().map(|r| r.label(Attribute::Sip)).collect::<Vec<_>>().join(" ")
        };
        assert_eq!(run(None, None), "10.0.0.1 10.0.0.2");
        assert_eq!(run(Some(201), None), "10.0.0.2");
        assert_eq!(run(Some(200), None), "10.0.0.1 10.0.0.2");
        assert_eq!(run(None, Some(299)), "10.0.0.1");
        assert_eq!(run(Some(150), Some(350)), "10.0.0.1 10.0.0.2");
        assert_eq!(run(Some(250), Some(260)), "");
    }

    #[test]
    fn merging_partials_renumbers_applications() {
        let q = query("app", None);
        let plan = Plan::new(&q);
        let mut a = Partial::new();
        let mut b = Partial::new();
        let all = views();
        for v in &all[..3] {
            a.add(&plan, v);
        }
        for v in &all[3..] {
            b.add(&plan, v);
        }
        let merged = a.merge(b).finish(&q);
        let single = run_views(views(), &q);
        assert_eq!(merged.rows, single.rows);
        assert_eq!(merged.connections_read, 6);
    }
}

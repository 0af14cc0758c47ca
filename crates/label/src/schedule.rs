//! Attack schedules: a documented YAML format (docs/label.md), and the CSV
//! layout of CIC-IDS-style flow label files (one labelled flow per row).
//!
//! ```yaml
//! timezone: America/Halifax     # optional: for times written without an offset
//! attacks:
//!   - name: DoS Hulk
//!     category: dos
//!     start: 2017-07-05T09:47:00-03:00
//!     end: 2017-07-05T10:10:00-03:00
//!     attackers: [172.16.0.1]
//!     victims: [192.168.10.50]
//!     protocol: tcp
//!     ports: [80]
//! ```

use crate::error::LabelError;
use crate::net::{Net, PortSet, protocol_number};
#[cfg(test)]
use crate::time::NS_PER_SEC;
use crate::time::{parse_flow_file_time, parse_instant, parse_zone};
use crate::truth::{GroundTruth, Window};
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

/// Largest schedule file read (YAML is parsed from memory).
pub const MAX_SCHEDULE_BYTES: u64 = 256 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    timezone: Option<Spanned<String>>,
    attacks: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: Spanned<String>,
    #[serde(default)]
    category: Option<String>,
    start: Text,
    end: Text,
    #[serde(default)]
    attackers: Option<List>,
    #[serde(default)]
    victims: Option<List>,
    #[serde(default)]
    ips: Option<List>,
    #[serde(default)]
    protocol: Option<Text>,
    #[serde(default)]
    ports: Option<List>,
    #[serde(default)]
    attacker_ports: Option<List>,
    #[serde(default)]
    all_victim_traffic: bool,
}

/// A scalar YAML may read as a number or a string (`tcp`, `6`, Unix times).
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    Int(i64),
    Float(f64),
    Str(String),
}

impl Text {
    fn text(&self) -> String {
        match self {
            Text::Int(v) => v.to_string(),
            Text::Float(v) => v.to_string(),
            Text::Str(s) => s.clone(),
        }
    }
}

/// One item or a list; string items may hold several, comma-separated.
#[derive(Deserialize)]
#[serde(untagged)]
enum List {
    Many(Vec<Text>),
    One(Text),
}

impl List {
    fn items(&self) -> Vec<String> {
        let all: Vec<String> = match self {
            List::Many(items) => items.iter().map(Text::text).collect(),
            List::One(item) => vec![item.text()],
        };
        all.iter().flat_map(|s| s.split(',')).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
    }
}

fn nets(list: &Option<List>) -> Result<Vec<Net>, String> {
    list.as_ref().map_or(Ok(Vec::new()), |l| l.items().iter().map(|s| Net::parse(s)).collect())
}

fn ports(list: &Option<List>) -> Result<Option<PortSet>, String> {
    let Some(list) = list else { return Ok(None) };
    let mut set = PortSet::default();
    for item in list.items() {
        set.add(&item)?;
    }
    Ok(Some(set))
}

/// Parses a YAML schedule; `file` is the index windows record.
pub fn parse_yaml(text: &str, path: &Path, file: usize) -> Result<Vec<Window>, LabelError> {
    let doc: Document = serde_saphyr::from_str(text).map_err(|e| {
        let line = e.location().map_or(0, |l| l.line());
        // One line: the snippet would repeat what the location says.
        let message = e.without_snippet().to_string();
        LabelError::input(path, line, format!("not a valid attack schedule: {}", message.trim()))
    })?;
    let zone = match &doc.timezone {
        Some(name) => Some(
            parse_zone(&name.value)
                .map_err(|m| LabelError::input(path, name.referenced.line(), format!("timezone: {m}")))?,
        ),
        None => None,
    };
    let mut windows = Vec::with_capacity(doc.attacks.len());
    for entry in &doc.attacks {
        let line = entry.name.referenced.line();
        let window = entry_window(entry, zone.as_ref(), file, line)
            .map_err(|m| LabelError::input(path, line, format!("attack {:?}: {m}", entry.name.value)))?;
        windows.push(window);
    }
    Ok(windows)
}

fn entry_window(entry: &Entry, zone: Option<&TimeZone>, file: usize, line: u64) -> Result<Window, String> {
    let name = entry.name.value.trim().to_owned();
    if name.is_empty() {
        return Err("empty name".into());
    }
    let start_ns = parse_instant(&entry.start.text(), zone).map_err(|m| format!("start: {m}"))?;
    let end_ns = parse_instant(&entry.end.text(), zone).map_err(|m| format!("end: {m}"))?;
    if end_ns < start_ns {
        return Err("end is before start".into());
    }
    let attackers = nets(&entry.attackers).map_err(|m| format!("attackers: {m}"))?;
    let victims = nets(&entry.victims).map_err(|m| format!("victims: {m}"))?;
    let ips = nets(&entry.ips).map_err(|m| format!("ips: {m}"))?;
    if attackers.is_empty() && victims.is_empty() && ips.is_empty() {
        return Err("give attackers, victims or ips".into());
    }
    if entry.all_victim_traffic && victims.is_empty() {
        return Err("all_victim_traffic needs victims".into());
    }
    let proto = match &entry.protocol {
        None => None,
        Some(p) => {
            let text = p.text();
            Some(protocol_number(&text).ok_or_else(|| format!("unknown protocol {text:?}"))?)
        }
    };
    Ok(Window {
        file,
        line,
        name: name.clone(),
        category: entry.category.as_deref().map(str::trim).unwrap_or_default().to_owned(),
        start_ns,
        end_ns,
        attackers,
        victims,
        ips,
        proto,
        ports: ports(&entry.ports).map_err(|m| format!("ports: {m}"))?,
        attacker_ports: ports(&entry.attacker_ports).map_err(|m| format!("attacker_ports: {m}"))?,
        all_victim_traffic: entry.all_victim_traffic,
    })
}

/// Columns of a flow label file, found by name (spaces around names, as
/// CIC-IDS2017 writes them, and case are ignored).
struct FlowColumns {
    src: usize,
    dst: usize,
    time: usize,
    label: usize,
    src_port: Option<usize>,
    dst_port: Option<usize>,
    proto: Option<usize>,
    duration: Option<usize>,
}

impl FlowColumns {
    fn find(headers: &csv::StringRecord) -> Result<FlowColumns, String> {
        let find = |names: &[&str]| headers.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)));
        let need = |names: &[&str]| find(names).ok_or_else(|| format!("no {:?} column", names[0]));
        Ok(FlowColumns {
            src: need(&["Source IP", "Src IP"])?,
            dst: need(&["Destination IP", "Dst IP"])?,
            time: need(&["Timestamp"])?,
            label: need(&["Label"])?,
            src_port: find(&["Source Port", "Src Port"]),
            dst_port: find(&["Destination Port", "Dst Port"]),
            proto: find(&["Protocol"]),
            duration: find(&["Flow Duration"]),
        })
    }
}

/// Parses a CIC-IDS-style flow label file: each row not labelled `BENIGN`
/// becomes a window from its timestamp to the end of the timestamp's
/// resolution plus the flow's duration (microseconds), between its source
/// (attacker) and destination (victim), with its ports and protocol.
/// Timestamps carry no zone: `zone` (-tz) is required.
pub fn parse_flow_file<R: std::io::Read>(
    input: R,
    path: &Path,
    file: usize,
    zone: Option<&TimeZone>,
) -> Result<Vec<Window>, LabelError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers().map_err(|e| LabelError::input(path, 1, format!("CSV header: {e}")))?.clone();
    let columns = FlowColumns::find(&headers)
        .map_err(|m| LabelError::input(path, 1, format!("not a flow label file: {m} in the header")))?;
    let mut windows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(LabelError::input(path, line, format!("CSV: {e}"))),
        }
        if let Some(window) =
            flow_row(&record, &columns, file, line, zone).map_err(|m| LabelError::input(path, line, m))?
        {
            windows.push(window);
        }
    }
    Ok(windows)
}

fn flow_row(
    record: &csv::StringRecord,
    columns: &FlowColumns,
    file: usize,
    line: u64,
    zone: Option<&TimeZone>,
) -> Result<Option<Window>, String> {
    let field = |i: usize| record.get(i).map(str::trim).unwrap_or("");
    let label = field(columns.label);
    if label.is_empty() || label.eq_ignore_ascii_case("benign") {
        return Ok(None);
    }
    let (start_ns, resolution) = parse_flow_file_time(field(columns.time), zone)?;
    let duration_us = match columns.duration.map(field) {
        None | Some("") => 0.0,
        Some(text) => text.parse::<f64>().map_err(|_| format!("invalid Flow Duration {text:?}"))?,
    };
    // CIC-IDS2017 has negative durations in places: taken as zero.
    let duration_ns = if duration_us.is_finite() && duration_us > 0.0 { (duration_us * 1000.0) as i64 } else { 0 };
    let end_ns = start_ns.saturating_add(resolution).saturating_add(duration_ns);
    let port = |i: Option<usize>| -> Result<Option<PortSet>, String> {
        match i.map(field) {
            None | Some("") => Ok(None),
            Some(text) => {
                let mut set = PortSet::default();
                set.add(text)?;
                Ok(Some(set))
            }
        }
    };
    let proto = match columns.proto.map(field) {
        None | Some("") | Some("0") => None,
        Some(text) => Some(protocol_number(text).ok_or_else(|| format!("unknown protocol {text:?}"))?),
    };
    // ICMP rows carry no ports that name the conversation.
    let has_ports = proto.is_none_or(crate::net::has_ports);
    Ok(Some(Window {
        file,
        line,
        name: label.to_owned(),
        category: label.to_owned(),
        start_ns,
        end_ns,
        attackers: vec![Net::parse(field(columns.src))?],
        victims: vec![Net::parse(field(columns.dst))?],
        ips: Vec::new(),
        proto,
        ports: if has_ports { port(columns.dst_port)? } else { None },
        attacker_ports: if has_ports { port(columns.src_port)? } else { None },
        all_victim_traffic: false,
    }))
}

/// Whether `path` is read as a flow label file (CSV) rather than YAML.
pub fn is_flow_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Reads a schedule (YAML, or CSV by its `.csv` extension) into `truth`.
pub fn read(path: &Path, zone: Option<&TimeZone>, truth: &mut GroundTruth) -> Result<(), LabelError> {
    let file = truth.files.len();
    truth.files.push(path.to_owned());
    let handle = std::fs::File::open(path).map_err(|e| LabelError::io(path, e))?;
    let windows = if is_flow_file(path) {
        parse_flow_file(std::io::BufReader::new(handle), path, file, zone)?
    } else {
        let mut text = String::new();
        use std::io::Read;
        handle.take(MAX_SCHEDULE_BYTES + 1).read_to_string(&mut text).map_err(|e| LabelError::io(path, e))?;
        if text.len() as u64 > MAX_SCHEDULE_BYTES {
            return Err(LabelError::File { file: path.to_owned(), message: "schedule larger than 256 MiB".into() });
        }
        parse_yaml(&text, path, file)?
    };
    truth.windows.extend(windows);
    Ok(())
}

/// Fuzzing entry point: parses arbitrary bytes as a YAML schedule and as a
/// flow label file.
pub fn fuzz_entry(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_yaml(text, Path::new("fuzz.yaml"), 0);
    }
    let _ = parse_flow_file(data, Path::new("fuzz.csv"), 0, Some(&TimeZone::UTC));
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = NS_PER_SEC;

    const YAML: &str = "\
timezone: America/Halifax
attacks:
  - name: DoS Hulk
    category: dos
    start: 2017-07-05T09:47:00-03:00
    end: 2017-07-05T10:10:00
    attackers: [172.16.0.1]
    victims: 192.168.10.50
    protocol: tcp
    ports: [80, \"8000-8001\"]
  - name: Scan
    start: 1499265277
    end: 1499265287.5
    ips: [10.0.0.0/8, \"2001:db8::1\"]
    all_victim_traffic: false
";

    #[test]
    fn yaml_schedules() {
        let windows = parse_yaml(YAML, Path::new("s.yaml"), 4).unwrap();
        assert_eq!(windows.len(), 2);
        let w = &windows[0];
        assert_eq!((w.file, w.line, w.name.as_str(), w.category.as_str()), (4, 3, "DoS Hulk", "dos"));
        assert_eq!(w.start_ns, 1_499_258_820 * SECOND);
        // The end has no offset: the schedule's zone (ADT, -03:00) applies.
        assert_eq!(w.end_ns, 1_499_260_200 * SECOND);
        assert_eq!(w.attackers, [Net::parse("172.16.0.1").unwrap()]);
        assert_eq!(w.victims, [Net::parse("192.168.10.50").unwrap()]);
        assert_eq!(w.proto, Some(6));
        assert_eq!(w.ports.as_ref().unwrap().to_string(), "80,8000-8001");
        assert_eq!(w.attacker_ports, None);
        let s = &windows[1];
        assert_eq!((s.start_ns, s.end_ns), (1_499_265_277 * SECOND, 1_499_265_287_500_000_000));
        assert_eq!(s.ips.len(), 2);
        assert!(s.attackers.is_empty() && s.victims.is_empty());
        assert_eq!(s.category, "");
    }

    #[test]
    fn yaml_errors_name_the_line() {
        let err = |text: &str| parse_yaml(text, Path::new("s.yaml"), 0).unwrap_err().to_string();
        let e = err(&YAML.replace("    end: 2017-07-05T10:10:00\n", "    end: 2017-07-05T09:00:00-03:00\n"));
        assert!(e.starts_with("s.yaml:3: attack \"DoS Hulk\": end is before start"), "{e}");
        let e = err(&YAML.replace("timezone: America/Halifax\n", ""));
        assert!(
            e.starts_with("s.yaml:2: attack \"DoS Hulk\": end: time \"2017-07-05T10:10:00\" has no time zone"),
            "{e}"
        );
        let e = err(&YAML.replace("    category: dos\n", "    categroy: dos\n"));
        assert!(e.starts_with("s.yaml:") && e.contains("categroy"), "{e}");
        let e = err(&YAML.replace("victims: 192.168.10.50", "victims: 192.168.10.500"));
        assert!(e.contains("victims: invalid address"), "{e}");
        let e = err(&YAML.replace("America/Halifax", "America/Atlantis"));
        assert!(e.starts_with("s.yaml:1: timezone: unknown time zone"), "{e}");
        let e = err("attacks:\n  - name: x\n    start: 1\n    end: 2\n");
        assert!(e.contains("give attackers, victims or ips"), "{e}");
        let e = err("attacks: [\n");
        assert!(e.starts_with("s.yaml:"), "{e}");
    }

    const FLOWS: &str =
        "Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration, Label
192.168.10.5-8.8.8.8-1-53-17,192.168.10.5,1,8.8.8.8,53,17,5/7/2017 8:59,1000,BENIGN
172.16.0.1-192.168.10.50-45022-80-6,172.16.0.1,45022,192.168.10.50,80,6,5/7/2017 9:47,2500000,DoS Hulk
172.16.0.1-192.168.10.50-0-0-1,172.16.0.1,0,192.168.10.50,0,1,05/07/2017 09:48:01,-1,PortScan
";

    #[test]
    fn flow_label_files() {
        let adt = parse_zone("-03:00").unwrap();
        let windows = parse_flow_file(FLOWS.as_bytes(), Path::new("f.csv"), 1, Some(&adt)).unwrap();
        assert_eq!(windows.len(), 2);
        let w = &windows[0];
        assert_eq!((w.line, w.name.as_str()), (3, "DoS Hulk"));
        assert_eq!(w.start_ns, 1_499_258_820 * SECOND);
        // The minute the row means, plus 2.5 s of flow.
        assert_eq!(w.end_ns, (1_499_258_820 + 60) * SECOND + 2_500_000_000);
        assert_eq!(w.proto, Some(6));
        assert_eq!(w.ports.as_ref().and_then(PortSet::single), Some(80));
        assert_eq!(w.attacker_ports.as_ref().and_then(PortSet::single), Some(45022));
        let icmp = &windows[1];
        assert_eq!((icmp.proto, icmp.ports.as_ref()), (Some(1), None));
        assert_eq!(icmp.end_ns - icmp.start_ns, SECOND);
        let e = parse_flow_file(FLOWS.as_bytes(), Path::new("f.csv"), 1, None).unwrap_err().to_string();
        assert!(e.starts_with("f.csv:3: time \"5/7/2017 9:47\" has no time zone"), "{e}");
        let e = parse_flow_file("a,b\n1,2\n".as_bytes(), Path::new("f.csv"), 1, None).unwrap_err().to_string();
        assert!(e.starts_with("f.csv:1: not a flow label file"), "{e}");
    }

    #[test]
    fn fuzz_entry_takes_anything() {
        for cut in 0..=YAML.len() {
            fuzz_entry(&YAML.as_bytes()[..cut]);
        }
        fuzz_entry(&FLOWS.as_bytes()[..100]);
        fuzz_entry(b"\xff\x00attacks: &a [*a]");
    }
}
